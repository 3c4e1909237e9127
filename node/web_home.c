/* The console's API: home (web_api.h). */
#include "web_api.h"

const struct web_route web_routes_home[] = {
    {NULL, NULL, 0, NULL},
};
