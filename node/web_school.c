/* The console's API: school (web_api.h). */
#include "web_api.h"

const struct web_route web_routes_school[] = {
    {NULL, NULL, 0, NULL},
};
