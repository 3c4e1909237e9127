/* The console's API: requests (web_api.h). */
#include "web_api.h"

const struct web_route web_routes_requests[] = {
    {NULL, NULL, 0, NULL},
};
