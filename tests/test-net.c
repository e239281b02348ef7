#include <keel.h>
#include "harness.h"
int main(void)
{
	Suite *s = suite_create("net");
	return kt_run(s);
}
