/* SPDX-License-Identifier: ISC */
/*
 * logfile: one line of <state_dir>/log/mesh.log, formatted and parsed, and
 * which lines a reader selects (include/mesh/logfile.h).
 */
#include <string.h>

#include "mesh/logfile.h"

#define LOGFILE_MS_MAX 253402300800000LL   /* 10000-01-01T00:00:00Z */

static const char *const logfile_sidecar = "~proxy";

/* n decimal digits of v (0 <= v < 10^n) at p. */
static void
logfile_digits(char *p, int64_t v, int n)
{
	while (n-- > 0) {
		p[n] = (char)('0' + v % 10);
		v /= 10;
	}
}

/* Unix ms (0 <= ms < LOGFILE_MS_MAX) as "YYYY-MM-DDTHH:MM:SS.mmmZ", by
 * integer arithmetic: no time_t, which is 32 bits on armhf and ends in
 * 2038 (the inverse of logfile_days() below). */
static void
logfile_stamp(char *p, int64_t ms)
{
	int64_t z = ms / 86400000 + 719468, doe, yoe, doy, mp, y, m, d, t;

	doe = z % 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	y = z / 146097 * 400 + yoe + (m <= 2);
	t = ms % 86400000;
	logfile_digits(p, y, 4);
	p[4] = '-';
	logfile_digits(p + 5, m, 2);
	p[7] = '-';
	logfile_digits(p + 8, d, 2);
	p[10] = 'T';
	logfile_digits(p + 11, t / 3600000, 2);
	p[13] = ':';
	logfile_digits(p + 14, t / 60000 % 60, 2);
	p[16] = ':';
	logfile_digits(p + 17, t / 1000 % 60, 2);
	p[19] = '.';
	logfile_digits(p + 20, t % 1000, 3);
	p[23] = 'Z';
}

size_t
logfile_format(char *buf, int64_t ms, const char *name, const char *text, size_t len)
{
	size_t n, i, nl = strlen(name);
	char c;

	if (nl == 0 || ms < 0 || ms >= LOGFILE_MS_MAX)
		return 0;
	logfile_stamp(buf, ms);
	n = LOGFILE_TIME_LEN;
	buf[n++] = ' ';
	if (nl > LOGFILE_NAME_MAX)
		nl = LOGFILE_NAME_MAX;
	for (i = 0; i < nl; i++) {
		c = name[i];
		buf[n++] = (unsigned char)c <= ' ' || c == 0x7f ? '_' : c;
	}
	memcpy(buf + n, " | ", 3);
	n += 3;
	if (len > LOGFILE_TEXT_MAX)
		len = LOGFILE_TEXT_MAX;
	for (i = 0; i < len; i++) {
		c = text[i];
		buf[n++] = c == '\n' || c == '\r' || c == '\0' ? ' ' : c;
	}
	buf[n++] = '\n';
	return n;
}

/* n digits at s as a number, -1 when one is not a digit. */
static int
logfile_num(const char *s, int n)
{
	int v = 0;

	while (n-- > 0) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (*s++ - '0');
	}
	return v;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian; H. Hinnant's). */
static int64_t
logfile_days(int y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int
logfile_mdays(int y, int m)
{
	static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (m == 2 && (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
		return 29;
	return days[m - 1];
}

/* "YYYY-MM-DDTHH:MM:SS.mmmZ" -> Unix ms; -1 when it is not one. */
static int64_t
logfile_time(const char *s)
{
	int y, mo, d, h, mi, sec, ms;

	if (s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
	    s[16] != ':' || s[19] != '.' || s[23] != 'Z')
		return -1;
	y = logfile_num(s, 4);
	mo = logfile_num(s + 5, 2);
	d = logfile_num(s + 8, 2);
	h = logfile_num(s + 11, 2);
	mi = logfile_num(s + 14, 2);
	sec = logfile_num(s + 17, 2);
	ms = logfile_num(s + 20, 3);
	if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > logfile_mdays(y, mo) ||
	    h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 59 || ms < 0)
		return -1;
	return ((logfile_days(y, mo, d) * 24 + h) * 60 + mi) * 60000 + sec * 1000LL + ms;
}

int
logfile_parse(const char *line, size_t len, struct logfile_line *out)
{
	const char *name, *end;
	size_t i, nl;

	if (len > 0 && line[len - 1] == '\n')
		len--;
	if (len < LOGFILE_TIME_LEN + 1 + 1 + 3 || len > LOGFILE_LINE_MAX - 1 ||
	    line[LOGFILE_TIME_LEN] != ' ' || memchr(line, '\n', len) != NULL)
		return -1;
	if ((out->ms = logfile_time(line)) < 0)
		return -1;
	name = line + LOGFILE_TIME_LEN + 1;
	end = line + len;
	for (nl = 0; name + nl < end && name[nl] != ' '; nl++)
		if ((unsigned char)name[nl] < ' ' || name[nl] == 0x7f)
			return -1;
	if (nl == 0 || nl > LOGFILE_NAME_MAX || end - (name + nl) < 3 ||
	    memcmp(name + nl, " | ", 3) != 0)
		return -1;
	out->name = name;
	out->name_len = nl;
	out->text = name + nl + 3;
	out->text_len = (size_t)(end - out->text);
	if (out->text_len > LOGFILE_TEXT_MAX)
		return -1;
	for (i = 0; i < out->text_len; i++)
		if (out->text[i] == '\r' || out->text[i] == '\0')
			return -1;
	return 0;
}

/* The service part of a name: up to its first '.', '@' or '~'. */
static size_t
logfile_service_len(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (name[i] == '.' || name[i] == '@' || name[i] == '~')
			break;
	return i;
}

static int
logfile_sel_match(const char *sel, const char *name, size_t len)
{
	size_t sl = strlen(sel), pl = strlen(logfile_sidecar);

	if (strpbrk(sel, ".@~") == NULL)   /* a service, or "meshd" */
		return logfile_service_len(name, len) == sl && memcmp(name, sel, sl) == 0;
	if (len == sl && memcmp(name, sel, sl) == 0)
		return 1;
	/* an instance selects its sidecar too */
	return len == sl + pl && memcmp(name, sel, sl) == 0 &&
	    memcmp(name + sl, logfile_sidecar, pl) == 0;
}

static int
logfile_name_match(const struct logfile_filter *f, const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < f->nsel; i++)
		if (logfile_sel_match(f->sel[i], name, len))
			return 1;
	return 0;
}

int
logfile_match(const struct logfile_filter *f, const struct logfile_line *l)
{
	size_t i;

	if (f->since_ms != 0 && l->ms < f->since_ms)
		return 0;
	if (f->nsel == 0 || logfile_name_match(f, l->name, l->name_len))
		return 1;
	if (l->name_len != 5 || memcmp(l->name, "meshd", 5) != 0)
		return 0;
	/* meshd about an instance: "api.0: started (pid 4242)" */
	for (i = 0; i < l->text_len && i <= LOGFILE_NAME_MAX; i++)
		if (l->text[i] == ':' || l->text[i] == ' ')
			break;
	return i > 0 && i < l->text_len && l->text[i] == ':' &&
	    memchr(l->text, '.', i) != NULL && logfile_name_match(f, l->text, i);
}
