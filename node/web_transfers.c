/* The console's API: transfers (web_api.h). */
#include "web_api.h"

const struct web_route web_routes_transfers[] = {
    {NULL, NULL, 0, NULL},
};
