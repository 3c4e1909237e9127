/* The console's API: guardians (web_api.h). */
#include "web_api.h"

const struct web_route web_routes_guardians[] = {
    {NULL, NULL, 0, NULL},
};
