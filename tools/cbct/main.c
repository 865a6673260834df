#include <stdio.h>
#include "cbct.h"
int main(void) { printf("cbct %s\n", CBCT_VERSION); return 0; }
