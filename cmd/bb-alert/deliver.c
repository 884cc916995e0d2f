#include "bbalert.h"
int run_deliver(struct app *a) { (void)a; return 70; }
