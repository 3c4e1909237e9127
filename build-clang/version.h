#define BATON_VERSION "0.1.0+0306b54-dirty"
