/* The console's API: users (web_api.h). */
#include "web_api.h"

const struct web_route web_routes_users[] = {
    {NULL, NULL, 0, NULL},
};
