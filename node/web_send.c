/* The console's API: send (web_api.h). */
#include "web_api.h"

const struct web_route web_routes_send[] = {
    {NULL, NULL, 0, NULL},
};
