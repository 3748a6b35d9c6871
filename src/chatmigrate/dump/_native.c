/* chatmigrate.dump._native: the hot inner loop of the dump reader, in C.
 *
 * Owns: reading the VALUES tuples of one INSERT from a bytes buffer into Row objects,
 * with the same grammar as chatmigrate.dump.tokens (tuple_regex / scan_tuple) and the
 * same values as its converters.
 *
 * Does not own: errors, buffering, statements. It never decides that input is bad:
 * whatever it is not certain of (the end of the buffer inside a tuple, a value it does
 * not read itself that its Python converter refuses, a column count mismatch, any
 * syntax error) makes it stop *before* that tuple and return, and the pure-Python reader
 * reads that one tuple (raising the very DumpError it always raises). So both engines
 * give the same rows, errors, lines and offsets by construction; this file only has to
 * accept exactly the tuples the Python grammar accepts, with the same values.
 *
 * Memory safety: every read is bounded by the buffer length `end`; a value cut by the
 * end of the buffer is never read past it (the tuple is handed back to Python).
 *
 * parse_tuples(buf, pos, base, limit, spec) -> (rows, pos, status)
 *   spec   = (table: str, names: tuple[str], kinds: bytes, convs: tuple, row_type)
 *   kinds  = one byte per column: 't' text, 'i' int, 'b' bytes, 'o' other (converter)
 *   status = 0: stopped at the tuple starting at pos (Python reads it)
 *            1: the statement ended (';' read; pos is after it and its whitespace)
 *            2: `limit` rows read; pos is at the next tuple
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#define PROTOCOL 1

enum { ST_DEFER = 0, ST_DONE = 1, ST_LIMIT = 2 };
enum { F_SQ, F_DQ, F_NULL, F_HEX, F_INT, F_NUM, F_INTRO, F_BITS };

typedef struct {
    Py_ssize_t start, end; /* the raw lexeme */
    Py_ssize_t body;       /* F_SQ / F_INTRO: index after the opening quote */
    int form;
    int esc;               /* the string body holds a backslash or a doubled quote */
} Val;

static inline int is_ws(unsigned char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
static inline int is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
static inline int is_hex(unsigned char c) {
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
static inline int is_alnum(unsigned char c) {
    return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static inline Py_ssize_t skip_ws(const unsigned char *b, Py_ssize_t p, Py_ssize_t end) {
    while (p < end && is_ws(b[p])) p++;
    return p;
}

/* The first index >= p holding q or a backslash (end if none): eight bytes at a time
 * while eight remain (a word holds q or '\\' iff one of its bytes XORed with it is 0). */
static inline Py_ssize_t scan_body(const unsigned char *b, Py_ssize_t p, Py_ssize_t end, unsigned char q) {
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    const uint64_t mq = ones * q, mb = ones * (uint64_t)'\\';
    while (end - p >= 8) {
        uint64_t w, x, y;
        memcpy(&w, b + p, 8);
        x = w ^ mq;
        y = w ^ mb;
        if ((((x - ones) & ~x) | ((y - ones) & ~y)) & highs) break;
        p += 8;
    }
    while (p < end && b[p] != q && b[p] != '\\') p++;
    return p;
}

/* A quoted string opening at p (b[p] == q): the index after its closing quote, or -1 when
 * the buffer ends before the end is certain (a closing quote must be followed by a known
 * byte that is not q, or it could be a doubled quote). */
static Py_ssize_t lex_quoted(const unsigned char *b, Py_ssize_t p, Py_ssize_t end, unsigned char q, int *esc) {
    p++;
    for (;;) {
        p = scan_body(b, p, end, q);
        if (p >= end) return -1;
        if (b[p] == '\\') {
            if (p + 1 >= end) return -1;
            *esc = 1;
            p += 2;
            continue;
        }
        if (p + 1 >= end) return -1;
        if (b[p + 1] == q) {
            *esc = 1;
            p += 2;
            continue;
        }
        return p + 1;
    }
}

/* One value at p < end, as tokens.VALUE matches it (its alternatives never overlap
 * where the tuple grammar could accept both): the index after it, or -1. */
static Py_ssize_t lex_value(const unsigned char *b, Py_ssize_t p, Py_ssize_t end, Val *v) {
    unsigned char c = b[p];
    Py_ssize_t q;
    v->start = p;
    v->esc = 0;
    switch (c) {
    case '\'':
        v->form = F_SQ;
        v->body = p + 1;
        return lex_quoted(b, p, end, '\'', &v->esc);
    case '"':
        v->form = F_DQ;
        return lex_quoted(b, p, end, '"', &v->esc);
    case 'N':
    case 'n':
        v->form = F_NULL;
        if (end - p >= 4 && (memcmp(b + p, "NULL", 4) == 0 || memcmp(b + p, "null", 4) == 0)) return p + 4;
        return -1;
    case '_':
        q = p + 1;
        while (q < end && is_alnum(b[q])) q++;
        if (q == p + 1) return -1;
        q = skip_ws(b, q, end);
        if (q >= end || b[q] != '\'') return -1;
        v->form = F_INTRO;
        v->body = q + 1;
        return lex_quoted(b, q, end, '\'', &v->esc);
    case 'x': case 'X': case 'b': case 'B':
        if (p + 1 >= end || b[p + 1] != '\'') return -1;
        q = p + 2;
        while (q < end && is_hex(b[q])) q++;
        if (q >= end || b[q] != '\'') return -1;
        v->form = F_BITS;
        return q + 1;
    default:
        break;
    }
    if (c == '0' && p + 1 < end && b[p + 1] == 'x') {
        q = p + 2;
        while (q < end && is_hex(b[q])) q++;
        v->form = F_HEX;
        return q;
    }
    /* NUMBER: [-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)? */
    q = p;
    int integer = 1;
    if (c == '-' || c == '+') q++;
    if (q < end && is_digit(b[q])) {
        while (q < end && is_digit(b[q])) q++;
        if (q < end && b[q] == '.') {
            integer = 0;
            q++;
            while (q < end && is_digit(b[q])) q++;
        }
    } else if (q + 1 < end && b[q] == '.' && is_digit(b[q + 1])) {
        integer = 0;
        q++;
        while (q < end && is_digit(b[q])) q++;
    } else {
        return -1;
    }
    if (q < end && (b[q] == 'e' || b[q] == 'E')) {
        Py_ssize_t r = q + 1;
        if (r < end && (b[r] == '-' || b[r] == '+')) r++;
        if (r < end && is_digit(b[r])) {
            while (r < end && is_digit(b[r])) r++;
            q = r;
            integer = 0;
        }
    }
    v->form = integer ? F_INT : F_NUM;
    return q;
}

/* MySQL's reading of a single-quoted string body b[s:e] (backslash escapes as in
 * tokens._ESCAPES, '' -> '); out must hold e - s bytes. Returns the length written. */
static Py_ssize_t unescape(const unsigned char *b, Py_ssize_t s, Py_ssize_t e, char *out) {
    Py_ssize_t n = 0;
    while (s < e) {
        unsigned char c = b[s];
        if (c == '\\' && s + 1 < e) {
            unsigned char d = b[s + 1];
            s += 2;
            switch (d) {
            case '0': out[n++] = '\0'; break;
            case 'b': out[n++] = '\b'; break;
            case 'n': out[n++] = '\n'; break;
            case 'r': out[n++] = '\r'; break;
            case 't': out[n++] = '\t'; break;
            case 'Z': out[n++] = '\x1a'; break;
            case '%': case '_': out[n++] = '\\'; out[n++] = (char)d; break;
            default: out[n++] = (char)d; break;
            }
        } else if (c == '\'' && s + 1 < e && b[s + 1] == '\'') {
            out[n++] = '\'';
            s += 2;
        } else {
            out[n++] = (char)c;
            s++;
        }
    }
    return n;
}

typedef struct {
    char *p;
    Py_ssize_t size;
} Scratch;

static char *scratch(Scratch *sc, Py_ssize_t need) {
    if (need > sc->size) {
        char *np = PyMem_Realloc(sc->p, (size_t)(need < 256 ? 256 : need));
        if (np == NULL) {
            PyErr_NoMemory();
            return NULL;
        }
        sc->p = np;
        sc->size = need < 256 ? 256 : need;
    }
    return sc->p;
}

/* The Python value of one lexeme for a column of kind k. NULL with an exception set on
 * failure; *refused tells a converter's refusal (the tuple goes back to Python) from an
 * error to propagate (MemoryError). */
static PyObject *convert(const unsigned char *b, const Val *v, char k, PyObject *conv, Scratch *sc) {
    if (v->form == F_NULL) Py_RETURN_NONE;
    if (k == 't' && v->form == F_SQ) {
        Py_ssize_t s = v->body, e = v->end - 1;
        if (!v->esc) return PyUnicode_DecodeUTF8((const char *)b + s, e - s, NULL);
        char *out = scratch(sc, e - s);
        if (out == NULL) return NULL;
        return PyUnicode_DecodeUTF8(out, unescape(b, s, e, out), NULL);
    }
    if (k == 'i' && v->form == F_INT) {
        Py_ssize_t s = v->start, e = v->end;
        int neg = 0;
        if (b[s] == '-' || b[s] == '+') {
            neg = b[s] == '-';
            s++;
        }
        if (e - s <= 18) {
            long long x = 0;
            for (; s < e; s++) x = x * 10 + (b[s] - '0');
            return PyLong_FromLongLong(neg ? -x : x);
        }
    }
    if (k == 'b' && (v->form == F_SQ || v->form == F_INTRO)) {
        Py_ssize_t s = v->body, e = v->end - 1;
        if (!v->esc) return PyBytes_FromStringAndSize((const char *)b + s, e - s);
        char *out = scratch(sc, e - s);
        if (out == NULL) return NULL;
        return PyBytes_FromStringAndSize(out, unescape(b, s, e, out));
    }
    PyObject *raw = PyBytes_FromStringAndSize((const char *)b + v->start, v->end - v->start);
    if (raw == NULL) return NULL;
    PyObject *r = PyObject_CallOneArg(conv, raw);
    Py_DECREF(raw);
    return r;
}

static PyObject *parse_tuples(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 5) {
        PyErr_SetString(PyExc_TypeError, "parse_tuples(buf, pos, base, limit, spec)");
        return NULL;
    }
    PyObject *bufobj = args[0], *spec = args[4];
    if (!PyBytes_Check(bufobj) || !PyTuple_Check(spec) || PyTuple_GET_SIZE(spec) != 5) {
        PyErr_SetString(PyExc_TypeError, "parse_tuples: buf must be bytes, spec a 5-tuple");
        return NULL;
    }
    Py_ssize_t pos = PyLong_AsSsize_t(args[1]);
    Py_ssize_t base = PyLong_AsSsize_t(args[2]);
    Py_ssize_t limit = PyLong_AsSsize_t(args[3]);
    if ((pos == -1 || base == -1 || limit == -1) && PyErr_Occurred()) return NULL;
    PyObject *table = PyTuple_GET_ITEM(spec, 0), *names = PyTuple_GET_ITEM(spec, 1);
    PyObject *kinds = PyTuple_GET_ITEM(spec, 2), *convs = PyTuple_GET_ITEM(spec, 3);
    PyObject *rowtype = PyTuple_GET_ITEM(spec, 4);
    if (!PyTuple_Check(names) || !PyBytes_Check(kinds) || !PyTuple_Check(convs) || !PyType_Check(rowtype)) {
        PyErr_SetString(PyExc_TypeError, "parse_tuples: bad spec");
        return NULL;
    }
    Py_ssize_t n = PyTuple_GET_SIZE(names);
    PyTypeObject *rt = (PyTypeObject *)rowtype;
    if (n < 1 || PyBytes_GET_SIZE(kinds) != n || PyTuple_GET_SIZE(convs) != n ||
        !PyType_IsSubtype(rt, &PyTuple_Type) || rt->tp_basicsize != PyTuple_Type.tp_basicsize ||
        rt->tp_itemsize != PyTuple_Type.tp_itemsize) {
        PyErr_SetString(PyExc_TypeError, "parse_tuples: bad spec sizes or row type");
        return NULL;
    }
    const unsigned char *b = (const unsigned char *)PyBytes_AS_STRING(bufobj);
    const char *kind = PyBytes_AS_STRING(kinds);
    Py_ssize_t end = PyBytes_GET_SIZE(bufobj);

    PyObject *rows = PyList_New(0);
    if (rows == NULL) return NULL;
    Val *vals = PyMem_Malloc(sizeof(Val) * (size_t)n);
    if (vals == NULL) {
        Py_DECREF(rows);
        return PyErr_NoMemory();
    }
    Scratch sc = {NULL, 0};
    int status = ST_DEFER;
    PyObject *values = NULL;
    Py_ssize_t p = pos;
    if (pos < 0 || pos > end) goto defer;

    while (PyList_GET_SIZE(rows) < limit) {
        Py_ssize_t t0 = p, open;
        p = skip_ws(b, p, end);
        if (p >= end || b[p] != '(') goto stop;
        open = p++;
        for (Py_ssize_t i = 0; i < n; i++) {
            p = skip_ws(b, p, end);
            if (p >= end) goto stop;
            Py_ssize_t e = lex_value(b, p, end, &vals[i]);
            if (e < 0) goto stop;
            vals[i].end = e;
            p = skip_ws(b, e, end);
            if (p >= end || b[p] != (i + 1 < n ? ',' : ')')) goto stop;
            p++;
        }
        p = skip_ws(b, p, end);
        if (p >= end || (b[p] != ',' && b[p] != ';')) goto stop;
        unsigned char sep = b[p];
        p = skip_ws(b, p + 1, end);

#if PY_VERSION_HEX < 0x030D0000
        values = _PyDict_NewPresized(n);
#else
        values = PyDict_New();
#endif
        if (values == NULL) goto fail;
        for (Py_ssize_t i = 0; i < n; i++) {
            PyObject *x = convert(b, &vals[i], kind[i], PyTuple_GET_ITEM(convs, i), &sc);
            if (x == NULL) {
                if (!PyErr_ExceptionMatches(PyExc_Exception) || PyErr_ExceptionMatches(PyExc_MemoryError)) goto fail;
                PyErr_Clear(); /* a value its converter refuses: Python reads this tuple and says why */
                Py_CLEAR(values);
                goto stop;
            }
            int rc = PyDict_SetItem(values, PyTuple_GET_ITEM(names, i), x);
            Py_DECREF(x);
            if (rc < 0) goto fail;
        }
        PyObject *offset = PyLong_FromSsize_t(base + open);
        if (offset == NULL) goto fail;
        PyObject *row = rt->tp_alloc(rt, 3);
        if (row == NULL) {
            Py_DECREF(offset);
            goto fail;
        }
        Py_INCREF(table);
        PyTuple_SET_ITEM(row, 0, table);
        PyTuple_SET_ITEM(row, 1, values);
        PyTuple_SET_ITEM(row, 2, offset);
        /* as the collector does with tuples of untracked objects: a str, an int and a dict
         * of str/int/bytes/None (untracked) cannot be part of a reference cycle */
        if (!PyObject_GC_IsTracked(values) && PyObject_GC_IsTracked(row)) PyObject_GC_UnTrack(row);
        values = NULL;
        int rc = PyList_Append(rows, row);
        Py_DECREF(row);
        if (rc < 0) goto fail;
        if (sep == ';') {
            status = ST_DONE;
            goto out;
        }
        continue;
    stop:
        p = t0;
        goto defer;
    }
    status = ST_LIMIT;
    goto out;
defer:
    status = ST_DEFER;
out:
    PyMem_Free(vals);
    PyMem_Free(sc.p);
    {
        PyObject *res = Py_BuildValue("(Nni)", rows, p, status);
        return res;
    }
fail:
    Py_XDECREF(values);
    PyMem_Free(vals);
    PyMem_Free(sc.p);
    Py_DECREF(rows);
    return NULL;
}

/* ------------------------------------------------------------------ skipping
 * skip_body(buf, pos, delimiter) -> int: where statements.skip_body_regex(delimiter)
 * .match(buf, pos) ends. That regex is (?:plain|SQ|DQ|BQ|COMMENT|first(?!rest)|lone)*+ :
 * at each position the first alternative that matches wins, and the loop stops where
 * none does. Each alternative below is one of the regex's, tried in the same order. */

/* '[^'\\]*+(?:(?:\\.|'')[^'\\]*+)*+' (possessive: no giving back) */
static Py_ssize_t m_quoted(const unsigned char *b, Py_ssize_t p, Py_ssize_t end, unsigned char q) {
    if (b[p] != q) return -1;
    p++;
    for (;;) {
        p = scan_body(b, p, end, q);
        if (p >= end) return -1;
        if (b[p] == '\\') {
            if (p + 1 >= end) return -1;
            p += 2;
            continue;
        }
        if (p + 1 < end && b[p + 1] == q) {
            p += 2;
            continue;
        }
        return p + 1;
    }
}

/* `(?:[^`]|``)*` (greedy, backtracking to the last doubled backtick at the end) */
static Py_ssize_t m_backtick(const unsigned char *b, Py_ssize_t p, Py_ssize_t end) {
    if (b[p] != '`') return -1;
    Py_ssize_t last_pair = -1;
    p++;
    for (;;) {
        while (p < end && b[p] != '`') p++;
        if (p >= end) return last_pair >= 0 ? last_pair + 1 : -1;
        if (p + 1 < end && b[p + 1] == '`') {
            last_pair = p;
            p += 2;
            continue;
        }
        return p + 1;
    }
}

static Py_ssize_t find_byte(const unsigned char *b, Py_ssize_t p, Py_ssize_t end, unsigned char c) {
    if (p >= end) return -1;
    const unsigned char *f = memchr(b + p, c, (size_t)(end - p));
    return f == NULL ? -1 : (Py_ssize_t)(f - b);
}

/* /\*.*?\*\/ | --[ \t\r][^\n]*+\n | --\n | #[^\n]*+\n */
static Py_ssize_t m_comment(const unsigned char *b, Py_ssize_t p, Py_ssize_t end) {
    Py_ssize_t q;
    if (b[p] == '/') {
        if (p + 1 >= end || b[p + 1] != '*') return -1;
        for (q = p + 2; q + 1 < end; q++) {
            q = find_byte(b, q, end - 1, '*');
            if (q < 0) return -1;
            if (b[q + 1] == '/') return q + 2;
        }
        return -1;
    }
    if (b[p] == '-') {
        if (p + 2 >= end || b[p + 1] != '-') return -1;
        unsigned char c = b[p + 2];
        if (c == '\n') return p + 3;
        if (c != ' ' && c != '\t' && c != '\r') return -1;
        q = find_byte(b, p + 3, end, '\n');
        return q < 0 ? -1 : q + 1;
    }
    if (b[p] == '#') {
        q = find_byte(b, p + 1, end, '\n');
        return q < 0 ? -1 : q + 1;
    }
    return -1;
}

/* /(?=[^*]) | -(?=[^-]) | --(?=[^ \t\r\n]) */
static Py_ssize_t m_lone(const unsigned char *b, Py_ssize_t p, Py_ssize_t end) {
    if (p + 1 >= end) return -1;
    if (b[p] == '/') return b[p + 1] != '*' ? p + 1 : -1;
    if (b[p] != '-') return -1;
    if (b[p + 1] != '-') return p + 1;
    if (p + 2 < end && !is_ws(b[p + 2])) return p + 2;
    return -1;
}

static PyObject *skip_body(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 3 || !PyBytes_Check(args[0]) || !PyBytes_Check(args[2]) || PyBytes_GET_SIZE(args[2]) < 1) {
        PyErr_SetString(PyExc_TypeError, "skip_body(buf: bytes, pos: int, delimiter: bytes)");
        return NULL;
    }
    Py_ssize_t p = PyLong_AsSsize_t(args[1]);
    if (p == -1 && PyErr_Occurred()) return NULL;
    const unsigned char *b = (const unsigned char *)PyBytes_AS_STRING(args[0]);
    Py_ssize_t end = PyBytes_GET_SIZE(args[0]);
    const unsigned char *delim = (const unsigned char *)PyBytes_AS_STRING(args[2]);
    Py_ssize_t rest = PyBytes_GET_SIZE(args[2]) - 1;
    unsigned char first = delim[0];
    unsigned char stop[256] = {0};
    stop['\''] = stop['"'] = stop['`'] = stop['/'] = stop['#'] = stop['-'] = 1;
    stop[first] = 1;
    if (p < 0 || p > end) {
        PyErr_SetString(PyExc_ValueError, "skip_body: pos outside the buffer");
        return NULL;
    }
    while (p < end) {
        Py_ssize_t q;
        unsigned char c = b[p];
        if (!stop[c]) { /* plain: [^'"`/#\-F]++ */
            while (p < end && !stop[b[p]]) p++;
            continue;
        }
        if ((q = m_quoted(b, p, end, '\'')) >= 0 || (q = m_quoted(b, p, end, '"')) >= 0 ||
            (q = m_backtick(b, p, end)) >= 0 || (q = m_comment(b, p, end)) >= 0) {
            p = q;
            continue;
        }
        if (rest > 0 && c == first &&
            !(end - (p + 1) >= rest && memcmp(b + p + 1, delim + 1, (size_t)rest) == 0)) {
            p += 1; /* first(?!rest) */
            continue;
        }
        if ((q = m_lone(b, p, end)) >= 0) {
            p = q;
            continue;
        }
        break;
    }
    return PyLong_FromSsize_t(p);
}

/* count_newlines(buf, start, end) -> int: buf.count(b"\n", start, end), with memchr */
static PyObject *count_newlines(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 3 || !PyBytes_Check(args[0])) {
        PyErr_SetString(PyExc_TypeError, "count_newlines(buf: bytes, start: int, end: int)");
        return NULL;
    }
    Py_ssize_t s = PyLong_AsSsize_t(args[1]), e = PyLong_AsSsize_t(args[2]);
    if ((s == -1 || e == -1) && PyErr_Occurred()) return NULL;
    const unsigned char *b = (const unsigned char *)PyBytes_AS_STRING(args[0]);
    Py_ssize_t len = PyBytes_GET_SIZE(args[0]), n = 0;
    if (s < 0) s = 0;
    if (e > len) e = len;
    while (s < e) {
        const unsigned char *f = memchr(b + s, '\n', (size_t)(e - s));
        if (f == NULL) break;
        n++;
        s = (Py_ssize_t)(f - b) + 1;
    }
    return PyLong_FromSsize_t(n);
}

static PyMethodDef methods[] = {
    {"parse_tuples", (PyCFunction)(void (*)(void))parse_tuples, METH_FASTCALL,
     "parse_tuples(buf, pos, base, limit, spec) -> (rows, pos, status): the tuples of one INSERT."},
    {"skip_body", (PyCFunction)(void (*)(void))skip_body, METH_FASTCALL,
     "skip_body(buf, pos, delimiter) -> int: where statements.skip_body_regex(delimiter).match(buf, pos) ends."},
    {"count_newlines", (PyCFunction)(void (*)(void))count_newlines, METH_FASTCALL,
     "count_newlines(buf, start, end) -> int: buf.count(b'\\n', start, end)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "chatmigrate.dump._native",
    "The dump reader's tuple loop in C (see chatmigrate.dump.inserts).", -1, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__native(void) {
    PyObject *m = PyModule_Create(&module);
    if (m == NULL) return NULL;
    if (PyModule_AddIntConstant(m, "PROTOCOL", PROTOCOL) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
