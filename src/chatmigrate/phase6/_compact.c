/* chatmigrate.phase6._compact: a mapping keyed by UUID text that keeps each entry in a few
 * dozen bytes instead of a few hundred (the step-1 lookups: bookings, migrated bookings,
 * the user mapping and the chats' routes, a million of each at 10M messages).
 *
 * Owns: UuidMap, a mutable mapping from str to a value of one declared shape. A key that
 * is a canonical UUID text (36 characters, lowercase hex, dashes at 8/13/18/23) whose
 * value has the declared shape is packed: 16 bytes of key, a tag, and the value's UUID
 * fields as 16 bytes each, or as 4-byte indexes into a pool of the map's distinct UUIDs
 * (for the people, who recur across many bookings and chats). Any other key or value is
 * kept as it is, in an ordinary dict inside the map, so the map is exact for any input: a
 * packed key only ever equals the one string it was packed from.
 *
 * The shape (`template`) is a tuple with one entry per field of the record class `cls`
 * (a tuple or NamedTuple class), or a single entry for a value that is not a record:
 *   KEY    the field equals the key (stored once)
 *   UUID   a UUID text or None, 16 bytes
 *   POOLED a UUID text or None, an index into the pool
 *   COUNT  an int from 0 to 2**32 - 1, 4 bytes (a number of messages)
 *   anything else: a constant the field must equal (same type, ==); not stored
 * A value of None is packed for any shape (the tag says so).
 *
 * Does not own: what the records mean (chatmigrate.phase6.compact builds the shapes), the
 * pure-Python fallback (a dict, in compact.py). Lookups hash the 16 key bytes with
 * CPython's own randomised hash (SipHash), so crafted ids cannot make probing quadratic.
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

enum { TAG_VALUE = 0, TAG_NONE = 1, TAG_DELETED = 2 };
enum { F_KEY, F_UUID, F_POOLED, F_COUNT, F_CONST };
#define MAX_FIELDS 16
#define HEADER 19 /* key[16], tag, null bits (2 bytes: one per field) */
#define NO_SLOT UINT32_MAX

static PyObject *KEY, *UUID, *POOLED, *COUNT;

static inline Py_hash_t hash16(const unsigned char *k) {
#if PY_VERSION_HEX >= 0x030E0000
    return Py_HashBuffer(k, 16);
#else
    return _Py_HashBytes(k, 16);
#endif
}

static inline int hexval(unsigned char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

/* 1 and the 16 bytes if `s` is a canonical lowercase UUID text, else 0. A str subclass is
 * read by its text too (it is not compact, but equal to the str, so the same dict key). */
static int parse_uuid(PyObject *s, unsigned char out[16]) {
    if (!PyUnicode_Check(s)) return 0;
#if PY_VERSION_HEX < 0x030C0000
    if (!PyUnicode_IS_READY(s)) return 0;
#endif
    if (!PyUnicode_IS_ASCII(s) || PyUnicode_GET_LENGTH(s) != 36) return 0;
    const unsigned char *p = PyUnicode_1BYTE_DATA(s);
    int j = 0;
    for (int i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (p[i] != '-') return 0;
            continue;
        }
        int hi = hexval(p[i]), lo = hexval(p[i + 1]);
        if (hi < 0 || lo < 0) return 0;
        out[j++] = (unsigned char)(hi << 4 | lo);
        i++;
    }
    return 1;
}

static PyObject *format_uuid(const unsigned char k[16]) {
    static const char digits[] = "0123456789abcdef";
    PyObject *s = PyUnicode_New(36, 127);
    if (s == NULL) return NULL;
    unsigned char *p = PyUnicode_1BYTE_DATA(s);
    int j = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) p[j++] = '-';
        p[j++] = (unsigned char)digits[k[i] >> 4];
        p[j++] = (unsigned char)digits[k[i] & 15];
    }
    return s;
}

/* The tables' arrays are mapped from the system directly (mmap; mremap to grow or trim on
 * Linux), not taken from malloc's heap: arrays of tens of MB regrown many times there leave
 * freed holes that the process keeps (measured: 240 MB resident instead of 130 MB after the
 * lookups of 10M messages were built). Elsewhere, and under AddressSanitizer (which watches
 * malloc's blocks, not mappings), they come from PyMem_Raw*. */
#if (defined(__unix__) || defined(__APPLE__)) && !defined(__SANITIZE_ADDRESS__)
#include <sys/mman.h>
#define MAPPED 1
#endif

static void *region_alloc(size_t size) { /* zero-filled; NULL if it cannot */
#ifdef MAPPED
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
#else
    return PyMem_RawCalloc(1, size);
#endif
}

static void region_free(void *p, size_t size) {
    if (p == NULL) return;
#ifdef MAPPED
    munmap(p, size);
#else
    (void)size;
    PyMem_RawFree(p);
#endif
}

/* p (of old bytes, or NULL) resized to size bytes, its content kept; NULL if it cannot (p stays). */
static void *region_resize(void *p, size_t old, size_t size) {
    if (p == NULL) return region_alloc(size);
#if defined(MAPPED) && defined(MREMAP_MAYMOVE)
    void *q = mremap(p, old, size, MREMAP_MAYMOVE);
    return q == MAP_FAILED ? NULL : q;
#elif defined(MAPPED)
    void *q = region_alloc(size);
    if (q == NULL) return NULL;
    memcpy(q, p, old < size ? old : size);
    munmap(p, old);
    return q;
#else
    (void)old;
    return PyMem_RawRealloc(p, size);
#endif
}

/* An open-addressing index of 16-byte keys stored in a dense array of fixed-size entries. */
typedef struct {
    unsigned char *entries;
    size_t esize, n, cap;  /* entry size, entries used, entries allocated */
    uint32_t *slots;       /* entry index + 1; 0 = empty */
    size_t mask;           /* slots allocated - 1 (0: none yet) */
} Table;

static void table_free(Table *t) {
    region_free(t->entries, t->cap * t->esize);
    region_free(t->slots, t->mask ? (t->mask + 1) * sizeof(uint32_t) : 0);
    t->entries = NULL;
    t->slots = NULL;
    t->n = t->cap = t->mask = 0;
}

/* The slot of key k: holding its entry, or the empty slot where it would go. */
static inline size_t table_probe(const Table *t, const unsigned char *k) {
    size_t i = (size_t)hash16(k) & t->mask;
    for (;;) {
        uint32_t s = t->slots[i];
        if (s == 0 || memcmp(t->entries + (size_t)(s - 1) * t->esize, k, 16) == 0) return i;
        i = (i + 1) & t->mask;
    }
}

static unsigned char *table_find(const Table *t, const unsigned char *k) {
    if (t->mask == 0) return NULL;
    uint32_t s = t->slots[table_probe(t, k)];
    return s ? t->entries + (size_t)(s - 1) * t->esize : NULL;
}

static int table_grow_slots(Table *t) {
    size_t cap = t->mask ? (t->mask + 1) * 2 : 64;
    uint32_t *slots = region_alloc(cap * sizeof(uint32_t));
    if (slots == NULL) return -1;
    region_free(t->slots, t->mask ? (t->mask + 1) * sizeof(uint32_t) : 0);
    t->slots = slots;
    t->mask = cap - 1;
    for (size_t e = 0; e < t->n; e++) t->slots[table_probe(t, t->entries + e * t->esize)] = (uint32_t)(e + 1);
    return 0;
}

/* The entry for k, added (zeroed but for the key) if absent; NULL with an exception set. */
static unsigned char *table_add(Table *t, const unsigned char *k, int *added) {
    *added = 0;
    if (t->mask == 0 || (t->n + 1) * 3 > (t->mask + 1) * 2) {
        if (t->n >= (size_t)UINT32_MAX - 1) {
            PyErr_SetString(PyExc_OverflowError, "UuidMap is full");
            return NULL;
        }
        if (table_grow_slots(t) < 0) return (unsigned char *)PyErr_NoMemory();
    }
    size_t i = table_probe(t, k);
    if (t->slots[i]) return t->entries + (size_t)(t->slots[i] - 1) * t->esize;
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap + t->cap / 4 : 64; /* room for a quarter more: trim() returns it */
        unsigned char *entries = region_resize(t->entries, t->cap * t->esize, cap * t->esize);
        if (entries == NULL) return (unsigned char *)PyErr_NoMemory();
        t->entries = entries;
        t->cap = cap;
    }
    unsigned char *e = t->entries + t->n * t->esize;
    memset(e, 0, t->esize);
    memcpy(e, k, 16);
    t->n++;
    t->slots[i] = (uint32_t)t->n;
    *added = 1;
    return e;
}

typedef struct {
    PyObject_HEAD
    PyObject *template; /* tuple of field kinds/constants, or a 1-tuple for a scalar */
    PyObject *cls;      /* record class, or NULL for a scalar */
    int nfields;
    unsigned char kind[MAX_FIELDS];
    uint16_t offset[MAX_FIELDS]; /* byte offset of a UUID / POOLED field in the entry */
    Table table;        /* the packed entries */
    Table pool;         /* the distinct POOLED values (entries of 16 bytes) */
    Py_ssize_t live;    /* packed entries not deleted */
    PyObject *overflow; /* dict: every entry that is not packed */
} UuidMap;

static PyTypeObject UuidMapType;

static int map_init(UuidMap *self, PyObject *args, PyObject *kwds) {
    static char *names[] = {"template", "cls", NULL};
    PyObject *template, *cls = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O|O:UuidMap", names, &template, &cls)) return -1;
    if (self->overflow != NULL) {
        PyErr_SetString(PyExc_TypeError, "UuidMap is initialised once");
        return -1;
    }
    int scalar = cls == Py_None;
    if (!scalar) {
        if (!PyType_Check(cls) || !PyType_IsSubtype((PyTypeObject *)cls, &PyTuple_Type) || !PyTuple_Check(template)) {
            PyErr_SetString(PyExc_TypeError, "UuidMap(template, cls): cls is a tuple class and template a tuple");
            return -1;
        }
        Py_INCREF(template);
    } else {
        template = PyTuple_Pack(1, template);
        if (template == NULL) return -1;
    }
    Py_ssize_t n = PyTuple_GET_SIZE(template);
    if (n > MAX_FIELDS) {
        Py_DECREF(template);
        PyErr_SetString(PyExc_ValueError, "UuidMap: at most 16 fields");
        return -1;
    }
    size_t off = HEADER;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *f = PyTuple_GET_ITEM(template, i);
        self->kind[i] = f == KEY ? F_KEY : f == UUID ? F_UUID : f == POOLED ? F_POOLED : f == COUNT ? F_COUNT : F_CONST;
        self->offset[i] = (uint16_t)off;
        off += self->kind[i] == F_UUID ? 16 : (self->kind[i] == F_POOLED || self->kind[i] == F_COUNT) ? 4 : 0;
    }
    self->template = template;
    self->cls = scalar ? NULL : Py_NewRef(cls);
    self->nfields = (int)n;
    self->table.esize = off;
    self->pool.esize = 16;
    self->overflow = PyDict_New();
    return self->overflow == NULL ? -1 : 0;
}

static int map_traverse(UuidMap *self, visitproc visit, void *arg) {
    Py_VISIT(self->template);
    Py_VISIT(self->cls);
    Py_VISIT(self->overflow);
    return 0;
}

static int map_clear(UuidMap *self) {
    Py_CLEAR(self->template);
    Py_CLEAR(self->cls);
    Py_CLEAR(self->overflow);
    return 0;
}

static void map_dealloc(UuidMap *self) {
    PyObject_GC_UnTrack(self);
    map_clear(self);
    table_free(&self->table);
    table_free(&self->pool);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int ready(UuidMap *self) {
    if (self->overflow != NULL) return 1;
    PyErr_SetString(PyExc_TypeError, "UuidMap was not initialised");
    return 0;
}

/* Parse `item` as field i into `buf` (16 bytes for UUID/POOLED/KEY). 1: fits, 0: does not,
 * -1: error. *isnone for a None UUID/POOLED field. */
static int field_fits(UuidMap *self, int i, PyObject *item, const unsigned char *key, unsigned char *buf, int *isnone) {
    *isnone = 0;
    switch (self->kind[i]) {
    case F_KEY:
        return parse_uuid(item, buf) && memcmp(buf, key, 16) == 0;
    case F_UUID:
    case F_POOLED:
        if (item == Py_None) {
            *isnone = 1;
            return 1;
        }
        return parse_uuid(item, buf);
    case F_COUNT: {
        if (!PyLong_CheckExact(item)) return 0;
        int over = 0;
        long long v = PyLong_AsLongLongAndOverflow(item, &over);
        if (v == -1 && PyErr_Occurred()) return -1;
        if (over || v < 0 || v > (long long)UINT32_MAX) return 0;
        uint32_t u = (uint32_t)v;
        memcpy(buf, &u, 4);
        return 1;
    }
    default: {
        PyObject *c = PyTuple_GET_ITEM(self->template, i);
        if (item == c) return 1;
        if (Py_TYPE(item) != Py_TYPE(c)) return 0;
        return PyObject_RichCompareBool(item, c, Py_EQ);
    }
    }
}

/* Pack (key, value) if it has the declared shape: 1 packed, 0 not, -1 error. */
static int pack(UuidMap *self, const unsigned char *key, PyObject *value) {
    unsigned char bufs[MAX_FIELDS][16];
    int nulls[MAX_FIELDS];
    int n = self->nfields;
    PyObject *const *items;
    PyObject *one[1];
    if (value != Py_None) {
        if (self->cls == NULL) {
            one[0] = value;
            items = one;
        } else {
            if ((PyObject *)Py_TYPE(value) != self->cls || PyTuple_GET_SIZE(value) != n) return 0;
            items = &PyTuple_GET_ITEM(value, 0);
        }
        for (int i = 0; i < n; i++) {
            int r = field_fits(self, i, items[i], key, bufs[i], &nulls[i]);
            if (r <= 0) return r;
        }
    }
    uint32_t pooled[MAX_FIELDS];
    if (value != Py_None) {
        for (int i = 0; i < n; i++) {
            if (self->kind[i] != F_POOLED) continue;
            if (nulls[i]) {
                pooled[i] = 0;
                continue;
            }
            int added;
            unsigned char *p = table_add(&self->pool, bufs[i], &added);
            if (p == NULL) return -1;
            pooled[i] = (uint32_t)((size_t)(p - self->pool.entries) / 16 + 1);
        }
    }
    int added;
    unsigned char *e = table_add(&self->table, key, &added);
    if (e == NULL) return -1;
    if (added || e[16] == TAG_DELETED) self->live++;
    memset(e + 16, 0, self->table.esize - 16);
    if (value == Py_None) {
        e[16] = TAG_NONE;
        return 1;
    }
    e[16] = TAG_VALUE;
    for (int i = 0; i < n; i++) {
        if (self->kind[i] == F_UUID) {
            if (nulls[i]) e[17 + i / 8] |= (unsigned char)(1u << (i % 8));
            else memcpy(e + self->offset[i], bufs[i], 16);
        } else if (self->kind[i] == F_POOLED) {
            memcpy(e + self->offset[i], &pooled[i], 4);
        } else if (self->kind[i] == F_COUNT) {
            memcpy(e + self->offset[i], bufs[i], 4);
        }
    }
    return 1;
}

static PyObject *field_value(UuidMap *self, int i, const unsigned char *e, PyObject *key) {
    switch (self->kind[i]) {
    case F_KEY:
        return Py_NewRef(key);
    case F_UUID:
        if (e[17 + i / 8] & (1u << (i % 8))) Py_RETURN_NONE;
        return format_uuid(e + self->offset[i]);
    case F_POOLED: {
        uint32_t p;
        memcpy(&p, e + self->offset[i], 4);
        if (p == 0 || p > self->pool.n) Py_RETURN_NONE;
        return format_uuid(self->pool.entries + (size_t)(p - 1) * 16);
    }
    case F_COUNT: {
        uint32_t v;
        memcpy(&v, e + self->offset[i], 4);
        return PyLong_FromUnsignedLong(v);
    }
    default:
        return Py_NewRef(PyTuple_GET_ITEM(self->template, i));
    }
}

/* The value of a packed entry (a new reference); `key` is its key's text. The entry is
 * copied first: allocating the value can run a collection, and so Python code (a finalizer,
 * gc.callbacks) that grows the map and moves its entries. */
static PyObject *unpack(UuidMap *self, const unsigned char *entry, PyObject *key) {
    unsigned char e[HEADER + MAX_FIELDS * 16];
    memcpy(e, entry, self->table.esize);
    if (e[16] == TAG_NONE) Py_RETURN_NONE;
    if (self->cls == NULL) return field_value(self, 0, e, key);
    int n = self->nfields;
    PyTypeObject *cls = (PyTypeObject *)self->cls;
    PyObject *t = cls == &PyTuple_Type ? PyTuple_New(n) : cls->tp_alloc(cls, n);
    if (t == NULL) return NULL;
    for (int i = 0; i < n; i++) {
        PyObject *v = field_value(self, i, e, key);
        if (v == NULL) {
            Py_DECREF(t);
            return NULL;
        }
        PyTuple_SET_ITEM(t, i, v);
    }
    return t;
}

/* The packed entry of `key` (NULL if none or deleted). */
static unsigned char *packed(UuidMap *self, PyObject *key) {
    unsigned char k[16];
    if (!parse_uuid(key, k)) return NULL;
    unsigned char *e = table_find(&self->table, k);
    return e != NULL && e[16] != TAG_DELETED ? e : NULL;
}

static PyObject *map_get(UuidMap *self, PyObject *const *args, Py_ssize_t nargs) {
    if (!ready(self)) return NULL;
    if (nargs < 1 || nargs > 2) {
        PyErr_SetString(PyExc_TypeError, "get(key, default=None)");
        return NULL;
    }
    unsigned char *e = packed(self, args[0]);
    if (e != NULL) return unpack(self, e, args[0]);
    PyObject *v = PyDict_GetItemWithError(self->overflow, args[0]);
    if (v != NULL) return Py_NewRef(v);
    if (PyErr_Occurred()) return NULL;
    return Py_NewRef(nargs == 2 ? args[1] : Py_None);
}

static PyObject *map_subscript(UuidMap *self, PyObject *key) {
    if (!ready(self)) return NULL;
    unsigned char *e = packed(self, key);
    if (e != NULL) return unpack(self, e, key);
    PyObject *v = PyDict_GetItemWithError(self->overflow, key);
    if (v != NULL) return Py_NewRef(v);
    if (!PyErr_Occurred()) PyErr_SetObject(PyExc_KeyError, key);
    return NULL;
}

static int map_ass_subscript(UuidMap *self, PyObject *key, PyObject *value) {
    if (!ready(self)) return -1;
    unsigned char k[16];
    int canonical = parse_uuid(key, k);
    if (value == NULL) { /* del m[key] */
        unsigned char *e = canonical ? packed(self, key) : NULL;
        if (e != NULL) {
            e[16] = TAG_DELETED;
            self->live--;
            return 0;
        }
        return PyDict_DelItem(self->overflow, key);
    }
    int r = canonical ? pack(self, k, value) : 0;
    if (r < 0) return -1;
    if (r == 1) { /* packed: it is no longer in the overflow */
        if (PyDict_GET_SIZE(self->overflow) && PyDict_Contains(self->overflow, key) == 1)
            return PyDict_DelItem(self->overflow, key);
        return PyErr_Occurred() ? -1 : 0;
    }
    /* looked up only now: pack() may have run Python code (a constant field's ==) that changed the map */
    unsigned char *e = canonical ? packed(self, key) : NULL;
    if (e != NULL) { /* was packed, is not any more */
        e[16] = TAG_DELETED;
        self->live--;
    }
    return PyDict_SetItem(self->overflow, key, value);
}

static int map_contains(UuidMap *self, PyObject *key) {
    if (!ready(self)) return -1;
    if (packed(self, key) != NULL) return 1;
    return PyDict_Contains(self->overflow, key);
}

static Py_ssize_t map_length(UuidMap *self) {
    if (!ready(self)) return -1;
    return self->live + PyDict_GET_SIZE(self->overflow);
}

static PyObject *map_sizeof(UuidMap *self, PyObject *Py_UNUSED(ignored)) {
    size_t n = sizeof(UuidMap);
    n += self->table.cap * self->table.esize + (self->table.mask ? (self->table.mask + 1) * 4 : 0);
    n += self->pool.cap * 16 + (self->pool.mask ? (self->pool.mask + 1) * 4 : 0);
    if (self->overflow != NULL) {
        PyObject *s = PyObject_CallMethod(self->overflow, "__sizeof__", NULL);
        if (s == NULL) return NULL;
        n += PyLong_AsSize_t(s);
        Py_DECREF(s);
    }
    return PyLong_FromSize_t(n);
}

/* Give back the room kept for growth (a third of the entries at most): once a map is built. */
static void table_trim(Table *t) {
    if (t->cap > t->n && t->n > 0) {
        unsigned char *entries = region_resize(t->entries, t->cap * t->esize, t->n * t->esize);
        if (entries != NULL) { /* else it keeps its room: nothing is lost */
            t->entries = entries;
            t->cap = t->n;
        }
    }
}

static PyObject *map_trim(UuidMap *self, PyObject *Py_UNUSED(ignored)) {
    if (!ready(self)) return NULL;
    table_trim(&self->table);
    table_trim(&self->pool);
    Py_RETURN_NONE;
}

static PyObject *map_stats(UuidMap *self, PyObject *Py_UNUSED(ignored)) {
    if (!ready(self)) return NULL;
    return Py_BuildValue("{snsnsnsn}", "packed", self->live, "overflow", PyDict_GET_SIZE(self->overflow),
                         "pooled", (Py_ssize_t)self->pool.n, "entry_bytes", (Py_ssize_t)self->table.esize);
}

/* Iteration over the keys: the packed ones in insertion order, then the overflow's. */
typedef struct {
    PyObject_HEAD
    UuidMap *map;
    size_t next;
    PyObject *rest; /* iterator over the overflow, once the packed keys are done */
} KeyIter;

static PyTypeObject KeyIterType;

static PyObject *map_iter(UuidMap *self) {
    if (!ready(self)) return NULL;
    KeyIter *it = PyObject_GC_New(KeyIter, &KeyIterType);
    if (it == NULL) return NULL;
    it->map = (UuidMap *)Py_NewRef(self);
    it->next = 0;
    it->rest = NULL;
    PyObject_GC_Track(it);
    return (PyObject *)it;
}

static PyObject *keyiter_next(KeyIter *it) {
    if (!ready(it->map)) return NULL; /* cleared by the collector (a cycle through the map) */
    Table *t = &it->map->table;
    while (it->rest == NULL && it->next < t->n) {
        const unsigned char *e = t->entries + it->next++ * t->esize;
        if (e[16] != TAG_DELETED) return format_uuid(e);
    }
    if (it->rest == NULL) {
        it->rest = PyObject_GetIter(it->map->overflow);
        if (it->rest == NULL) return NULL;
    }
    return PyIter_Next(it->rest);
}

static int keyiter_traverse(KeyIter *it, visitproc visit, void *arg) {
    Py_VISIT(it->map);
    Py_VISIT(it->rest);
    return 0;
}

static void keyiter_dealloc(KeyIter *it) {
    PyObject_GC_UnTrack(it);
    Py_XDECREF(it->map);
    Py_XDECREF(it->rest);
    PyObject_GC_Del(it);
}

static PyTypeObject KeyIterType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "chatmigrate.phase6._compact.KeyIterator",
    .tp_basicsize = sizeof(KeyIter),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_traverse = (traverseproc)keyiter_traverse,
    .tp_dealloc = (destructor)keyiter_dealloc,
    .tp_iter = PyObject_SelfIter,
    .tp_iternext = (iternextfunc)keyiter_next,
};

static PyMethodDef map_methods[] = {
    {"get", (PyCFunction)(void (*)(void))map_get, METH_FASTCALL, "get(key, default=None)"},
    {"__sizeof__", (PyCFunction)map_sizeof, METH_NOARGS, "bytes held, the packed arrays included"},
    {"stats", (PyCFunction)map_stats, METH_NOARGS, "how many entries are packed, in the overflow, pooled"},
    {"trim", (PyCFunction)map_trim, METH_NOARGS, "give back the room kept for growth (the map stays usable)"},
    {NULL, NULL, 0, NULL},
};

static PyMappingMethods map_as_mapping = {
    .mp_length = (lenfunc)map_length,
    .mp_subscript = (binaryfunc)map_subscript,
    .mp_ass_subscript = (objobjargproc)map_ass_subscript,
};

static PySequenceMethods map_as_sequence = {
    .sq_contains = (objobjproc)map_contains,
};

static PyTypeObject UuidMapType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "chatmigrate.phase6._compact.UuidMap",
    .tp_doc = "UuidMap(template, cls=None): a mapping from UUID text to values of one shape, packed.",
    .tp_basicsize = sizeof(UuidMap),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)map_init,
    .tp_traverse = (traverseproc)map_traverse,
    .tp_clear = (inquiry)map_clear,
    .tp_dealloc = (destructor)map_dealloc,
    .tp_iter = (getiterfunc)map_iter,
    .tp_methods = map_methods,
    .tp_as_mapping = &map_as_mapping,
    .tp_as_sequence = &map_as_sequence,
    .tp_hash = PyObject_HashNotImplemented,
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "chatmigrate.phase6._compact",
    "Compact UUID-keyed mappings for step 1's lookups (see chatmigrate.phase6.compact).", -1, NULL,
    NULL, NULL, NULL, NULL,
};

static PyObject *marker(void) { return PyObject_CallNoArgs((PyObject *)&PyBaseObject_Type); }

PyMODINIT_FUNC PyInit__compact(void) {
    if (PyType_Ready(&UuidMapType) < 0 || PyType_Ready(&KeyIterType) < 0) return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m == NULL) return NULL;
    KEY = marker();
    UUID = marker();
    POOLED = marker();
    COUNT = marker();
    if (KEY == NULL || UUID == NULL || POOLED == NULL || COUNT == NULL || PyModule_AddObjectRef(m, "KEY", KEY) < 0 ||
        PyModule_AddObjectRef(m, "COUNT", COUNT) < 0 ||
        PyModule_AddObjectRef(m, "UUID", UUID) < 0 || PyModule_AddObjectRef(m, "POOLED", POOLED) < 0 ||
        PyModule_AddObjectRef(m, "UuidMap", (PyObject *)&UuidMapType) < 0 ||
        PyModule_AddIntConstant(m, "PROTOCOL", 1) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
