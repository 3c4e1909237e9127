/* The console's API: peers (web_api.h). */
#include "web_api.h"

const struct web_route web_routes_peers[] = {
    {NULL, NULL, 0, NULL},
};
