/* The console's API: files (web_api.h). */
#include "web_api.h"

const struct web_route web_routes_files[] = {
    {NULL, NULL, 0, NULL},
};
