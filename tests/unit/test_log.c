/* The log module: a log in a file starts again past its cap, whatever
 * writes to it. */
#include "testutil.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

/* stderr is the log under test: a failed check says so on stdout too. */
#define CHECK(c)                                                               \
	do {                                                                   \
		if (!(c))                                                      \
			printf("failed: %s at line %d\n", #c, __LINE__);     \
		assert_true(c);                                                \
	} while (0)

static void t_cap(void **state)
{
	(void)state;
	char path[] = "/tmp/playnet-log.XXXXXX";
	int tmp = mkstemp(path);
	assert_true(tmp >= 0);
	close(tmp);
	int fd = open(path, O_RDWR | O_APPEND); /* as netd's log is opened */
	assert_true(fd >= 0);
	int saved = dup(STDERR_FILENO);
	assert_int_equal(dup2(fd, STDERR_FILENO), STDERR_FILENO);
	log_init("t", LOG_LVL_INFO);
	log_info("first");
	struct stat st;
	assert_int_equal(fstat(fd, &st), 0);
	CHECK(st.st_size > 0 && st.st_size < 100);
	/* under the cap: kept; at it: started again, and said */
	assert_int_equal(ftruncate(fd, (16 << 20) - 100), 0);
	log_info("still kept");
	assert_int_equal(fstat(fd, &st), 0);
	CHECK(st.st_size > (16 << 20) - 100);
	assert_int_equal(ftruncate(fd, 16 << 20), 0);
	log_info("over");
	fflush(stderr);
	assert_int_equal(fstat(fd, &st), 0);
	CHECK(st.st_size > 0 && st.st_size < 200);
	char buf[256] = "";
	CHECK(pread(fd, buf, sizeof(buf) - 1, 0) > 0);
	CHECK(strstr(buf, "starts again"));
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(fd);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_cap),
	};
	return cmocka_run_group_tests_name("log", tests, NULL, NULL);
}
