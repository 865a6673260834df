/* The machine and software a run was measured on, for its record: CPU
 * model, cores, memory, hostname, kernel, and the versions of cbct, the
 * compiler and the libraries it was built with (and of mpirun). */
#include <cjson/cJSON.h>
#include <fftw3.h>
#include <png.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include <yaml.h>

#include "bench.h"

void bench_iso_time(char *buf, size_t cap)
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The value after "key<spaces>:" of the first line of `path` that starts
 * with `key` ("model name" in /proc/cpuinfo, "MemTotal" in /proc/meminfo). */
static int proc_value(const char *path, const char *key, char *out, size_t cap)
{
    FILE *f = fopen(path, "r");
    char line[512];
    int found = 0;
    while (f && !found && fgets(line, sizeof line, f)) {
        const char *colon = strchr(line, ':');
        if (strncmp(line, key, strlen(key)) != 0 || !colon)
            continue;
        const char *v = colon + 1;
        while (*v == ' ' || *v == '\t')
            v++;
        snprintf(out, cap, "%s", v);
        out[strcspn(out, "\n")] = 0;
        found = 1;
    }
    if (f)
        fclose(f);
    return found;
}

/* First line of `program --version` (mpirun), empty when it cannot run. */
static void program_version(const char *program, char *out, size_t cap)
{
    char cmd[BENCH_PATH_MAX + 64];
    out[0] = 0;
    if (!program || strchr(program, '\'')) /* quoted below: refuse a quote inside */
        return;
    snprintf(cmd, sizeof cmd, "'%s' --version 2>/dev/null", program);
    FILE *p = popen(cmd, "r");
    if (!p)
        return;
    if (fgets(out, (int)cap, p))
        out[strcspn(out, "\n")] = 0;
    pclose(p);
}

cJSON *bench_machine_json(const char *mpirun)
{
    cJSON *m = cJSON_CreateObject();
    char text[512] = "", host[256] = "";
    struct utsname u;
    if (proc_value("/proc/cpuinfo", "model name", text, sizeof text))
        cJSON_AddStringToObject(m, "cpu", text);
    cJSON_AddNumberToObject(m, "cores", (double)sysconf(_SC_NPROCESSORS_ONLN));
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
    cJSON_AddNumberToObject(m, "memory_bytes", (double)pages * (double)page);
    if (gethostname(host, sizeof host - 1) == 0)
        cJSON_AddStringToObject(m, "hostname", host);
    if (uname(&u) == 0) {
        snprintf(text, sizeof text, "%s %s %s", u.sysname, u.release, u.machine);
        cJSON_AddStringToObject(m, "os", text);
    }
    cJSON_AddNumberToObject(m, "threads", cbct_threads());
    cJSON *sw = cJSON_AddObjectToObject(m, "software");
    cJSON_AddStringToObject(sw, "cbct", CBCT_VERSION);
#ifdef __VERSION__
    cJSON_AddStringToObject(sw, "compiler", __VERSION__);
#endif
    cJSON_AddStringToObject(sw, "libyaml", yaml_get_version_string());
    cJSON_AddStringToObject(sw, "cjson", cJSON_Version());
    cJSON_AddStringToObject(sw, "fftw", fftwf_version);
    cJSON_AddStringToObject(sw, "libpng", png_get_libpng_ver(NULL));
#ifdef _OPENMP
    cJSON_AddNumberToObject(sw, "openmp", _OPENMP);
#endif
    program_version(mpirun, text, sizeof text);
    if (text[0])
        cJSON_AddStringToObject(sw, "mpirun", text);
    return m;
}
