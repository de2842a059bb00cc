#!/usr/bin/env python3
"""Writes the seed corpus of tools/fuzz into test/fuzz/corpus/ (run from anywhere; rewrites it).

Each seed starts with its target's selector byte (the order of `targets` in fuzz_asiopg.cpp),
then that target's input: see the comment of each target there."""
import os
import shutil
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "corpus")

SCALAR, DATETIME, ARRAY, COPY_TEXT, COPY_BINARY, SQL_CLASSIFY, SQL_FORMAT, REDACT, CONNINFO, SQL_QUOTE = range(10)

# the OID lists of fuzz_asiopg.cpp, in their order
KNOWN_OIDS = [16, 17, 18, 19, 20, 21, 23, 25, 26, 114, 142, 700, 701, 705, 650, 869, 1042, 1043, 1082, 1083,
              1114, 1184, 1186, 1266, 1700, 2950, 3802, 0, 12345, 1000, 1001, 1005, 1007, 1016, 1009, 1028, 199,
              1021, 1022, 1015, 1182, 1183, 1115, 1185, 1187, 1270, 1231, 2951, 3807, 1041, 651]
DATETIME_OIDS = [1082, 1083, 1114, 1184, 1186, 1266, 20, 25]
ARRAY_OIDS = [1007, 1016, 1005, 1009, 1000, 1001, 1021, 1022, 1182, 1115, 1185, 1187, 1231, 2951, 199, 3807,
              1041, 1028, 1015, 1270, 1183, 12345]

seeds = {}


def seed(name, data):
    assert name not in seeds, name
    seeds[name] = data


def b(s):
    return s.encode() if isinstance(s, str) else s


def i16(v): return struct.pack(">h", v)
def i32(v): return struct.pack(">i", v)
def i64(v): return struct.pack(">q", v)
def u32(v): return struct.pack(">I", v)


# ---- 0: scalar decoders: [selector][format | oid index << 1][decoder] value ----
def scalar(name, oid, binary, op, value):
    seed("scalar-" + name, bytes([SCALAR, KNOWN_OIDS.index(oid) << 1 | binary, op]) + b(value))

S_SIGNED, S_UNSIGNED, S_DOUBLE, S_FLOAT, S_BOOL, S_TEXT, S_BYTES, S_VIEW, S_NUMERIC, S_UUID, S_NUMERIC_BIN = range(11)
scalar("int4-text", 23, 0, S_SIGNED, "123")
scalar("int8-text-neg", 20, 0, S_SIGNED, "-9223372036854775808")
scalar("int8-text-big", 20, 0, S_UNSIGNED, "18446744073709551615")
scalar("int2-bin", 21, 1, S_SIGNED, i16(-2))
scalar("int4-bin", 23, 1, S_SIGNED, i32(123456))
scalar("int8-bin", 20, 1, S_SIGNED, i64(-1))
scalar("oid-bin", 26, 1, S_UNSIGNED, u32(4000000000))
scalar("numeric-int", 1700, 0, S_SIGNED, "42")
scalar("numeric-frac", 1700, 0, S_DOUBLE, "3.14159")
scalar("float8-text", 701, 0, S_DOUBLE, "1.5e-300")
scalar("float8-nan", 701, 0, S_DOUBLE, "NaN")
scalar("float8-inf", 701, 0, S_DOUBLE, "-Infinity")
scalar("float8-bin", 701, 1, S_DOUBLE, struct.pack(">d", 0.1))
scalar("float4-bin", 700, 1, S_FLOAT, struct.pack(">f", 3.25))
scalar("float4-text", 700, 0, S_FLOAT, "1e-45")
scalar("bool-t", 16, 0, S_BOOL, "t")
scalar("bool-bin", 16, 1, S_BOOL, b"\x01")
scalar("text", 25, 0, S_TEXT, "hello, world")
scalar("text-bin", 25, 1, S_TEXT, "caf\u00e9")
scalar("bytea-hex", 17, 0, S_BYTES, "\\x0a1bFF")
scalar("bytea-escape", 17, 0, S_BYTES, "\\001abc")
scalar("bytea-bin", 17, 1, S_TEXT, b"\x00\x01\xfe\xff")
scalar("uuid-bin", 2950, 1, S_TEXT, bytes(range(16)))
scalar("uuid-text", 2950, 0, S_UUID, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")
scalar("uuid-braces", 25, 0, S_UUID, "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}")
scalar("numeric-bin", 1700, 1, S_TEXT, i16(3) + i16(1) + i16(0) + i16(6) + i16(12) + i16(3456) + i16(7800))
scalar("numeric-bin-neg", 1700, 1, S_NUMERIC, i16(2) + i16(-1) + i16(0x4000) + i16(8) + i16(5) + i16(1))
scalar("numeric-bin-nan", 1700, 1, S_DOUBLE, i16(0) + i16(0) + struct.pack(">H", 0xC000) + i16(0))
scalar("numeric-wellformed", 1700, 1, S_NUMERIC_BIN, i16(2) + i16(1) + i16(0) + i16(4) + i16(42) + i16(9999))
scalar("numeric-text", 1700, 0, S_NUMERIC, "-12.3400")
scalar("inet-v4", 869, 1, S_TEXT, bytes([2, 24, 0, 4, 192, 168, 1, 0]))
scalar("cidr-v6", 650, 1, S_TEXT, bytes([3, 64, 1, 16]) + bytes([0x20, 0x01, 0x0d, 0xb8] + [0] * 12))
scalar("timetz-bin", 1266, 1, S_TEXT, i64(45296789000) + i32(-3600))
scalar("jsonb-bin", 3802, 1, S_TEXT, b"\x01{\"a\": [1, 2]}")
scalar("json-view", 114, 1, S_VIEW, '{"a":1}')
scalar("date-bin-text", 1082, 1, S_TEXT, i32(8825))
scalar("int4-array-bin-text", 1007, 1, S_TEXT,
       i32(1) + i32(0) + u32(23) + i32(2) + i32(1) + i32(4) + i32(1) + i32(4) + i32(2))
scalar("unknown-text", 12345, 0, S_VIEW, "happy")
scalar("interval-bin-text", 1186, 1, S_TEXT, i64(14706000000) + i32(3) + i32(14))

# ---- 1: dates and times: [selector][format | type << 1][op][tick] value ----
def dt(name, oid, binary, op, tick, value):
    seed("datetime-" + name, bytes([DATETIME, DATETIME_OIDS.index(oid) << 1 | binary, op, tick]) + b(value))

D_SYS, D_LOCAL, D_YMD, D_TOD, D_DURATION, D_INTERVAL, D_TEXT, D_PUBLIC, D_ROUNDTRIP = range(9)
T_NS, T_US, T_MS, T_S, T_MIN, T_H, T_DAYS = range(7)
dt("tstz-text", 1184, 0, D_SYS, T_US, "2024-02-29 12:34:56.789+01")
dt("tstz-text-offset", 1184, 0, D_SYS, T_S, "1999-12-31 23:59:59+05:30:15")
dt("tstz-text-bc", 1184, 0, D_SYS, T_US, "0044-03-15 12:00:00+00 BC")
dt("tstz-infinity", 1184, 0, D_SYS, T_NS, "infinity")
dt("ts-text", 1114, 0, D_LOCAL, T_MS, "2000-01-01 00:00:00.5")
dt("ts-neg-infinity", 1114, 0, D_LOCAL, T_US, "-infinity")
dt("ts-far", 1114, 0, D_LOCAL, T_US, "294276-12-31 23:59:59.999999")
dt("date-text", 1082, 0, D_SYS, T_DAYS, "2024-02-29")
dt("date-text-ymd", 1082, 0, D_YMD, T_DAYS, "1970-01-01")
dt("date-text-bc", 1082, 0, D_YMD, T_DAYS, "4714-11-24 BC")
dt("date-text-german", 1082, 0, D_YMD, T_DAYS, "29.02.2024")
dt("time-text", 1083, 0, D_TOD, T_US, "12:34:56.789")
dt("time-text-24", 1083, 0, D_DURATION, T_S, "24:00:00")
dt("interval-text", 1186, 0, D_INTERVAL, T_US, "1 year 2 mons 3 days 04:05:06")
dt("interval-text-neg", 1186, 0, D_INTERVAL, T_US, "-1 years -2 mons +3 days -04:05:06.5")
dt("interval-text-hours", 1186, 0, D_DURATION, T_H, "100:00:00")
dt("interval-text-days", 1186, 0, D_DURATION, T_DAYS, "7 days")
dt("interval-text-infinity", 1186, 0, D_INTERVAL, T_US, "infinity")
dt("interval-iso", 1186, 0, D_INTERVAL, T_US, "P1Y2M3DT4H5M6S")
dt("tstz-bin", 1184, 1, D_SYS, T_US, i64(762_179_696_789_000))
dt("tstz-bin-inf", 1184, 1, D_SYS, T_S, i64(2**63 - 1))
dt("ts-bin", 1114, 1, D_LOCAL, T_MIN, i64(-60_000_000))
dt("date-bin", 1082, 1, D_SYS, T_DAYS, i32(-2451545))
dt("date-bin-ymd", 1082, 1, D_YMD, T_DAYS, i32(8825))
dt("time-bin", 1083, 1, D_TOD, T_MS, i64(86_400_000_000))
dt("interval-bin", 1186, 1, D_INTERVAL, T_US, i64(14706000000) + i32(3) + i32(14))
dt("interval-bin-duration", 1186, 1, D_DURATION, T_NS, i64(-1) + i32(-1) + i32(0))
dt("text-date", 1082, 1, D_TEXT, T_US, i32(-2451545))
dt("text-ts", 1114, 1, D_TEXT, T_US, i64(-211813488000000000))
dt("text-tstz", 1184, 1, D_TEXT, T_US, i64(1))
dt("text-time", 1083, 1, D_TEXT, T_US, i64(45296000001))
dt("text-interval", 1186, 1, D_TEXT, T_US, i64(-2**63) + i32(-2**31) + i32(-2**31))
dt("public-sys-seconds", 1184, 0, D_PUBLIC, T_US, "2024-02-29 12:34:56+00")
dt("public-local-ms", 1114, 0, D_PUBLIC + 9, T_US, "2024-02-29 12:34:56.123")
dt("public-sys-days", 1082, 0, D_PUBLIC + 18, T_US, "2024-02-29")
dt("public-ymd", 1082, 1, D_PUBLIC + 27, T_US, i32(0))
dt("public-hms", 1083, 0, D_PUBLIC + 36, T_US, "23:59:59.999999")
dt("public-minutes", 1186, 0, D_PUBLIC + 45, T_US, "01:30:00")
dt("public-interval", 1186, 0, D_PUBLIC + 54, T_US, "3 days 04:05:06")
dt("roundtrip-tstz", 1184, 1, D_ROUNDTRIP, T_US, i64(762_179_696_789_000))
dt("roundtrip-date", 1082, 1, D_ROUNDTRIP, T_US, i32(12345))
dt("roundtrip-time", 1083, 1, D_ROUNDTRIP, T_US, i64(3_600_000_001))
dt("roundtrip-interval", 1186, 1, D_ROUNDTRIP, T_US, i64(-1) + i32(1) + i32(-13))
dt("timetz-text", 1266, 0, D_TOD, T_US, "12:00:00+02")

# ---- 2: arrays: [selector][format | type << 1][op] value ----
def arr(name, oid, binary, op, value):
    seed("array-" + name, bytes([ARRAY, ARRAY_OIDS.index(oid) << 1 | binary, op]) + b(value))

def bin_array(elem, dims, elements, has_null=0):
    out = i32(len(dims)) + i32(has_null) + u32(elem)
    for d in dims:
        out += i32(d) + i32(1)
    for e in elements:
        out += i32(-1) if e is None else i32(len(e)) + e
    return out

A_PARSE, A_TEXT, A_INTS, A_STRINGS2, A_DOUBLES3, A_ROUNDTRIP = range(6)
arr("int-text", 1007, 0, A_PARSE, "{1,2,NULL}")
arr("int-text-ints", 1007, 0, A_INTS, "{1,2,NULL}")
arr("text-2d", 1009, 0, A_STRINGS2, '{{"a","b"},{"c",NULL}}')
arr("text-escapes", 1009, 0, A_STRINGS2, '{{"a\\"b","c\\\\d"},{" e ","NULL"}}')
arr("text-bounds", 1007, 0, A_PARSE, "[0:2]={1,2,3}")
arr("text-empty", 1009, 0, A_INTS, "{}")
arr("text-spaces", 1022, 0, A_PARSE, "{ 1.5 , -2e3 ,NaN, Infinity }")
arr("text-3d", 1022, 0, A_DOUBLES3, "{{{1,2},{3,4}},{{5,6},{7,8}}}")
arr("text-6d", 1007, 0, A_PARSE, "{{{{{{1}}}}}}")
arr("text-ragged", 1007, 0, A_PARSE, "{{1,2},{3}}")
arr("text-unquoted-escape", 1009, 0, A_ROUNDTRIP, "{a\\,b,c\\}d,\\\\}")
arr("text-roundtrip", 1009, 0, A_ROUNDTRIP, '{{"x y",NULL},{"",z}}')
arr("int-text-roundtrip-keep", 1007, 0, A_ROUNDTRIP + 6, "{{1,2},{3,4}}")
arr("uuid-text", 2951, 0, A_PARSE, "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}")
arr("json-text", 199, 0, A_STRINGS2, '{{"{\\"a\\": 1}"}}')
arr("unknown-text", 12345, 0, A_ROUNDTRIP, "{happy,sad}")
arr("int-bin", 1007, 1, A_INTS, bin_array(23, [3], [i32(1), None, i32(3)], 1))
arr("int-bin-text", 1007, 1, A_TEXT, bin_array(23, [2, 2], [i32(1), i32(2), i32(3), i32(4)]))
arr("int8-bin-text", 1016, 1, A_TEXT, bin_array(20, [2], [i64(-1), i64(2**62)]))
arr("text-bin", 1009, 1, A_STRINGS2, bin_array(25, [1, 2], [b"a,b", None], 1))
arr("text-bin-text", 1009, 1, A_TEXT, bin_array(25, [3], [b"", b"NULL", b'q"\\']))
arr("empty-bin", 1007, 1, A_TEXT, bin_array(23, [], []))
arr("float8-bin-3d", 1022, 1, A_DOUBLES3, bin_array(701, [1, 1, 2], [struct.pack(">d", 1.5), struct.pack(">d", -0.0)]))
arr("date-bin-text", 1182, 1, A_TEXT, bin_array(1082, [2], [i32(0), i32(2**31 - 1)]))
arr("interval-bin-text", 1187, 1, A_TEXT, bin_array(1186, [1], [i64(1) + i32(2) + i32(3)]))
arr("numeric-bin-text", 1231, 1, A_TEXT, bin_array(1700, [1], [i16(1) + i16(0) + i16(0) + i16(0) + i16(7)]))
arr("bytea-bin-text", 1001, 1, A_TEXT, bin_array(17, [2], [b"\x00\xff", b""]))
arr("nested-bin-text", 1007, 1, A_TEXT, bin_array(1007, [1], [bin_array(23, [1], [i32(5)])]))
arr("bin-roundtrip", 1009, 1, A_ROUNDTRIP, bin_array(25, [2, 1], [b"x", None], 1))
arr("bin-truncated", 1007, 1, A_PARSE, bin_array(23, [4], [i32(1)]))
arr("bin-6d", 1007, 1, A_TEXT, bin_array(23, [1, 1, 1, 1, 1, 2], [i32(1), i32(2)]))

# ---- 3: COPY text rows: [selector] then messages [length][bytes] (255: the rest) ----
def messages(*ms):
    out = b""
    for m in ms[:-1]:
        m = b(m)
        assert len(m) < 255
        out += bytes([len(m)]) + m
    return out + b"\xff" + b(ms[-1])

def copy_text(name, *rows):
    seed("copy-text-" + name, bytes([COPY_TEXT]) + messages(*rows))

copy_text("simple", "1\tabc\t\\N\n")
copy_text("escapes", "a\\tb\\nc\\\\d\t\\x41\\101\\b\\f\\r\\v\n")
copy_text("null-only", "\\N\n")
copy_text("empty-fields", "\t\t\r\n")
copy_text("crlf", "x\ty\r\n")
copy_text("two-rows", "1\tone\n", "2\t\\N\n")
copy_text("backslash-end", "abc\\")
copy_text("null-lookalike", "\\\\N\t\\Nx\n")
copy_text("hex-partial", "\\x\t\\xg\t\\x4\n")
copy_text("octal", "\\0\t\\7777\t\\18\n")
copy_text("utf8", "caf\u00e9\t\u65e5\u672c\n")
copy_text("trailing-tab", "a\t\n")
copy_text("cr-only", "a\tb\r")
copy_text("many-fields", "\t".join(str(i) for i in range(20)) + "\n")
copy_text("escaped-tab-null", "\\t\\N\t\\N\\N\n")
copy_text("three-rows", "1\n", "\\N\n", "x\\\\y\n")
copy_text("empty", "")
copy_text("newline-only", "\n")

# ---- 4: COPY binary: [selector] then messages ----
SIG = b"PGCOPY\n\xff\r\n\x00"
HEADER = SIG + u32(0) + u32(0)

def copy_bin(name, *msgs):
    seed("copy-binary-" + name, bytes([COPY_BINARY]) + messages(*msgs))

def tuple_(*fields):
    out = i16(len(fields))
    for f in fields:
        out += i32(-1) if f is None else i32(len(f)) + f
    return out

copy_bin("header-row", HEADER + tuple_(i32(1), b"abc", None))
copy_bin("header-then-rows", HEADER, tuple_(i32(1)), tuple_(b"", None), b"\xff\xff")
copy_bin("header-ext", SIG + u32(0) + u32(4) + b"abcd" + tuple_(b"x"))
copy_bin("trailer-only", HEADER + b"\xff\xff")
copy_bin("bad-signature", b"PGCOPY\n\xff\r\n\x01" + u32(0) + u32(0))
copy_bin("truncated-field", HEADER, i16(1) + i32(10) + b"abc")
copy_bin("zero-fields", HEADER, i16(0))
copy_bin("negative-length", HEADER, i16(1) + i32(-2))
copy_bin("negative-count", HEADER, i16(-2))
copy_bin("trailing-bytes", HEADER, tuple_(b"x") + b"junk")
copy_bin("trailer-then-row", HEADER, b"\xff\xff", tuple_(b"y"))
copy_bin("ext-too-long", SIG + u32(0) + u32(100) + b"ab")
copy_bin("short-header", SIG + u32(0))
copy_bin("many-nulls", HEADER, tuple_(*([None] * 10)))
copy_bin("big-field", HEADER, tuple_(b"z" * 200, b""))
copy_bin("two-rows-one-message", HEADER + tuple_(i32(1)) + tuple_(i32(2)))

# ---- 5: SQL classifier: [selector] sql ----
for i, sql in enumerate([
    "SELECT 1", "SET search_path = x", "select 1; set a=1", "/* c */ SELECT", "-- c\nSELECT 1",
    "WITH x AS (SELECT 1) SELECT * FROM x", "insert into t values (1)", "BEGIN; UPDATE t SET a = 1; COMMIT",
    "SELECT set_config('a', 'b', false)", "SELECT pg_advisory_lock(1)", "SELECT * INTO t2 FROM t",
    "(SELECT 1) UNION (SELECT 2)", "show search_path;", "DISCARD ALL", "SELECT nextval('s')",
    "COPY t FROM STDIN", "SELECT ';' ; SET x = 1", "VALUES (1), (2)", "TABLE t", "RESET ALL",
    "SELECT $$;$$", "SELECT \"into\" FROM t", "/* a /* b */ c */ SELECT 1", "select pg_catalog.SET_CONFIG('a','b',true)",
    "SELECT 1 -- trailing", "", ";;", "prepare p as select 1", "MERGE INTO t USING s ON true WHEN MATCHED THEN DELETE",
    "START TRANSACTION READ ONLY", "SAVEPOINT a; RELEASE a", "EXPLAIN SELECT 1", "SELECT E'\\';' ; SET x=1",
]):
    seed("sql-classify-%02d" % i, bytes([SQL_CLASSIFY]) + b(sql))

# ---- 6: format_sql format strings: [selector][flags] format ----
for i, fmt in enumerate([
    "SELECT {} FROM {} WHERE name = {} AND id IN ({}) ORDER BY {} {}", "SELECT '{{1,2}}'::int[], {}",
    "SELECT '{}'", "SELECT \"{}\"", "SELECT $${}$$", "SELECT $tag$ {} $tag$, {}", "-- {}\nSELECT {}",
    "/* /* {} */ */ SELECT {}", "SELECT E'\\'{}'", "SELECT e'{}'", "SELECT {", "SELECT }", "SELECT {x}",
    "SELECT a$b$ {}", "SELECT $1, {}", "SELECT 'it''s', {}", "SELECT \"a\"\"b\", {}", "INSERT INTO t VALUES ({}, {}, {})",
    "SELECT {}}}", "SELECT {{{}", "SELECT U&'\\0041', {}",
]):
    seed("sql-format-%02d" % i, bytes([SQL_FORMAT, 1 if i % 3 else 0x0b]) + b(fmt))

# ---- 7: redact: [selector][always | secret length << 1] secret text ----
def redact(name, secret, text, always=False):
    secret = b(secret)
    seed("redact-" + name, bytes([REDACT, (len(secret) << 1) | always]) + secret + b(text))

redact("conninfo", "secret1", "host=a password=secret1 dbname=b")
redact("uri", "pw12", "connection to postgresql://u:pw12@h/db failed")
redact("twice", "abcd", "abcd and abcd again")
redact("overlap", "abab", "abababab")
redact("short", "pw", "pw is short", False)
redact("short-always", "pw", "pw is short", True)
redact("stars", "a*b*", "a*b*a*b*")
redact("quotes", "p'ss", "password='p\\'ss'")
redact("none", "zzzz", "nothing here")
redact("at-end", "tail", "ends with tail")
redact("adjacent", "abcd", "abcdabcdabcd")
redact("whole", "whole", "whole")
redact("empty-secret", "", "text")
redact("empty-text", "secret", "")
redact("long-secret", "0123456789abcde", "x0123456789abcdey")
redact("error-message", "s3cr3t!", 'FATAL:  password authentication failed for user "s3cr3t!"')
redact("libpq-message", "pw1234", 'missing "=" after "pw1234" in connection info string', True)

# ---- 8: conninfo: [selector][mode] — even: free-form text; odd: a URI built around an
#      uppercase password: [password bytes][user length] user [host length] host tail ----
def conninfo(name, text):
    seed("conninfo-" + name, bytes([CONNINFO, 0]) + b(text))

conninfo("keyword", "host=a password=secret1 dbname=b")
conninfo("keyword-quoted", "host=a password='se cret' user=u")
conninfo("uri", "postgresql://u:pw@h/db")
conninfo("uri-query", "postgresql://h/db?user=u&password=pw")
conninfo("uri-no-user", "postgres://h:5432/db")
conninfo("bad", "host=a password=secret1 junk")
conninfo("password-in-value", "application_name=password_app host=h password=pw")
conninfo("password-spaces", "password = 'a b' host=h")
conninfo("password-last", "host=h password=")
conninfo("uri-percent", "postgresql://u:p%40ss@h/db")
conninfo("uri-at-in-query", "postgresql://h/db?application_name=a@b")
conninfo("uri-ipv6", "postgresql://u:pw@[2001:db8::1]:5432/db")
conninfo("uri-multi-host", "postgresql://u:pw@h1:5432,h2:5433/db?target_session_attrs=read-write")
conninfo("empty", "")

def conninfo_uri(name, password, user, host, tail):
    seed("conninfo-uri-" + name, bytes([CONNINFO, ((len(password) - 6) << 2) | 1]) + b(password) +
         bytes([len(user)]) + b(user) + bytes([len(host)]) + b(host) + b(tail))

def conninfo_query(name, password, user, host, before, after):
    seed("conninfo-query-" + name, bytes([CONNINFO, ((len(password) - 6) << 2) | 3]) + b(password) +
         bytes([len(user)]) + b(user) + bytes([len(host)]) + b(host) + bytes([len(before)]) + b(before) + b(after))

conninfo_uri("ok", "SECRETPW", "u", "h", "/db")
conninfo_uri("bad-ipv6", "SECRETPW", "u", "[::1]x", "/db")
conninfo_uri("bad-query", "SECRETPW", "u", "h", "/db?sslmode")
conninfo_uri("bad-percent", "SECRETPW", "u", "h", "/d%zzb")
conninfo_uri("spaces", "SECRETPW", "u", "h", "/db x")
conninfo_uri("bad-param", "SECRETPW", "u", "h", "/db?application_name=a&x")
conninfo_uri("ipv6-empty", "SECRETPW", "u", "[]", "/db")
conninfo_uri("ipv6-open", "SECRETPW", "u", "[::1", "/db")
conninfo_uri("query-extra-eq", "SECRETPW", "u", "h", "/db?a=b=c")
conninfo_uri("percent-nul", "SECRETPW", "u", "h", "/db%00")
conninfo_uri("password-word", "SECRETPW", "u", "h", "/password?sslmode")
conninfo_uri("password-word-bad-host", "SECRETPW", "u", "[::1]x", "/password_db?sslmode=require")
conninfo_query("ok", "SECRETPW", "u", "h", "sslmode=require", "application_name=x")
conninfo_query("bad-host", "SECRETPW", "u", "[::1]x", "", "")
conninfo_query("bad-host-params", "SECRETPW", "u", "[::1]x", "sslmode=require", "connect_timeout=3")
conninfo_query("quoted", "'SECRETPW'", "u", "[::1]x", "", "")
conninfo_query("ipv6-open", "SECRETPW", "u", "[::1", "a=b", "")

# ---- 9: SQL quoting: [selector] text ----
for i, text in enumerate([
    "users", "Weird \"name\"", "it's", "a\\b", "", "caf\u00e9", "\U0001F600", "x\x00y",
    b"\xc3\x28", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xe0\x80\xaf", b"\xf0\x9f\x98", "''\"\"\\\\",
]):
    seed("sql-quote-%02d" % i, bytes([SQL_QUOTE]) + b(text))

if __name__ == "__main__":
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    os.makedirs(OUT)
    for name, data in seeds.items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)
    print("%d seeds written to %s" % (len(seeds), OUT))
