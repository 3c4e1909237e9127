/* The console's API: review (web_api.h). */
#include "web_api.h"

const struct web_route web_routes_review[] = {
    {NULL, NULL, 0, NULL},
};
