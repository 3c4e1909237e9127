/* The console's API: students (web_api.h). */
#include "web_api.h"

const struct web_route web_routes_students[] = {
    {NULL, NULL, 0, NULL},
};
