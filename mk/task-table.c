/* SPDX-License-Identifier: Apache-2.0 */
/* mk/task-table.c: print the engine's task lifecycle table as markdown (`make task-table`),
 * from supervisor/task_table.c alone. */
#include "supervisor/task_table.h"

int main(void)
{
	task_table_markdown(stdout);
	return 0;
}
