#include "trend.h"
int run_report(struct app *a) { (void)a; return 0; }
int run_history(struct app *a) { (void)a; return 0; }
int run_prune(struct app *a) { (void)a; return 0; }
