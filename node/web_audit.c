/* The console's API: audit (web_api.h). */
#include "web_api.h"

const struct web_route web_routes_audit[] = {
    {NULL, NULL, 0, NULL},
};
