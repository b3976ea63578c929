/* Optional C accelerator for the two hottest loops of `fingerprint.enrich`.
 *
 * Both types reproduce, bit for bit, a pure-Python computation that stays the reference
 * (and the fallback when this module is not built):
 *
 * CueTrie.findall(text) == re.compile(<trie regex of cues.py>).findall(text)
 *   leftmost, longest, non-overlapping cue matches; `word_start` adds the leading \b of
 *   the bounded pattern; a node flagged `needs_boundary` matches only where \b holds.
 *   Word characters are sre's Unicode ones: Py_UNICODE_ISALNUM(ch) || ch == '_'.
 *
 * NgramTable.sums(flat) == the exact integer sums, per intent, of the quantized weights of
 *   the *distinct* 3- and 4-grams of `flat` (ngram.py's packed-int sum, without packing).
 *
 * Why C: in sre a trie's top-level alternation is scanned linearly at every word start,
 * and the n-gram model creates ~770 substrings per prompt; here both are array walks.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

/* ------------------------------------------------------------------ cue trie */

typedef struct {
    int32_t child_start; /* first edge of this node in `edges` (children sorted by char) */
    int32_t n_children;
    int32_t cue;         /* index into `cues`, or -1 when no cue ends here */
    int32_t needs_boundary;
} TrieNode;

typedef struct {
    Py_UCS4 ch;
    int32_t node;
} TrieEdge;

typedef struct {
    PyObject_HEAD
    TrieNode *nodes;
    Py_ssize_t n_nodes;
    TrieEdge *edges;
    Py_ssize_t n_edges;
    PyObject *cues; /* tuple of str, returned (not copied) for each match */
    int word_start;
    int32_t root_ascii[128]; /* root's child per ASCII char (-1: none): one load, no search */
} CueTrie;

static unsigned char ascii_word[128]; /* filled at import from the same definition */

static inline int
is_word(Py_UCS4 ch)
{
    if (ch < 128)
        return ascii_word[ch];
    return Py_UNICODE_ISALNUM(ch) || ch == '_';
}

/* A str as a plain UCS4 array: the loops below then index memory directly instead of
 * switching on the string's kind for every character. Short texts use the stack. */
#define TEXT_STACK 4096
typedef struct {
    const Py_UCS4 *s;
    Py_ssize_t len;
    Py_UCS4 *heap;
    Py_UCS4 stack[TEXT_STACK];
} Text;

static int
text_open(Text *t, PyObject *str)
{
    t->heap = NULL;
    t->len = PyUnicode_GET_LENGTH(str);
    const int kind = PyUnicode_KIND(str);
    if (kind == PyUnicode_4BYTE_KIND) {
        t->s = PyUnicode_4BYTE_DATA(str);
        return 0;
    }
    Py_UCS4 *buf = t->stack;
    if (t->len > TEXT_STACK) {
        buf = t->heap = PyMem_Malloc((size_t)t->len * sizeof(Py_UCS4));
        if (buf == NULL) {
            PyErr_NoMemory();
            return -1;
        }
    }
    if (kind == PyUnicode_1BYTE_KIND) {
        const Py_UCS1 *d = PyUnicode_1BYTE_DATA(str);
        for (Py_ssize_t i = 0; i < t->len; i++)
            buf[i] = d[i];
    }
    else {
        const Py_UCS2 *d = PyUnicode_2BYTE_DATA(str);
        for (Py_ssize_t i = 0; i < t->len; i++)
            buf[i] = d[i];
    }
    t->s = buf;
    return 0;
}

static void
text_close(Text *t)
{
    PyMem_Free(t->heap);
    t->heap = NULL;
}

static void
CueTrie_dealloc(CueTrie *self)
{
    PyMem_Free(self->nodes);
    PyMem_Free(self->edges);
    Py_XDECREF(self->cues);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* CueTrie(nodes, edges, cues, word_start)
 *   nodes: sequence of (child_start, n_children, cue, needs_boundary); node 0 is the root
 *   edges: sequence of (char code point, child node), grouped per node, sorted by char
 *   cues:  tuple of str
 */
static int
CueTrie_init(CueTrie *self, PyObject *args, PyObject *kwds)
{
    PyObject *nodes_obj, *edges_obj, *cues;
    int word_start;
    static char *kwlist[] = {"nodes", "edges", "cues", "word_start", NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OOO!p", kwlist, &nodes_obj, &edges_obj,
                                     &PyTuple_Type, &cues, &word_start))
        return -1;
    PyObject *nodes = PySequence_Fast(nodes_obj, "nodes must be a sequence");
    if (nodes == NULL)
        return -1;
    PyObject *edges = PySequence_Fast(edges_obj, "edges must be a sequence");
    if (edges == NULL) {
        Py_DECREF(nodes);
        return -1;
    }
    Py_ssize_t n_nodes = PySequence_Fast_GET_SIZE(nodes);
    Py_ssize_t n_edges = PySequence_Fast_GET_SIZE(edges);
    Py_ssize_t n_cues = PyTuple_GET_SIZE(cues);
    TrieNode *node_buf = PyMem_Calloc(n_nodes > 0 ? n_nodes : 1, sizeof(TrieNode));
    TrieEdge *edge_buf = PyMem_Calloc(n_edges > 0 ? n_edges : 1, sizeof(TrieEdge));
    if (node_buf == NULL || edge_buf == NULL) {
        PyErr_NoMemory();
        goto fail;
    }
    if (n_nodes < 1) {
        PyErr_SetString(PyExc_ValueError, "a trie needs a root node");
        goto fail;
    }
    for (Py_ssize_t i = 0; i < n_nodes; i++) {
        int start, count, cue, boundary;
        if (!PyArg_ParseTuple(PySequence_Fast_GET_ITEM(nodes, i), "iiip", &start, &count, &cue,
                              &boundary))
            goto fail;
        if (start < 0 || count < 0 || (Py_ssize_t)start + count > n_edges || cue < -1 ||
            cue >= n_cues) {
            PyErr_Format(PyExc_ValueError, "trie node %zd is out of range", i);
            goto fail;
        }
        node_buf[i] = (TrieNode){start, count, cue, boundary};
    }
    for (Py_ssize_t i = 0; i < n_edges; i++) {
        unsigned int ch;
        int child;
        if (!PyArg_ParseTuple(PySequence_Fast_GET_ITEM(edges, i), "Ii", &ch, &child))
            goto fail;
        if (child <= 0 || child >= n_nodes || ch > 0x10FFFF) {
            PyErr_Format(PyExc_ValueError, "trie edge %zd is out of range", i);
            goto fail;
        }
        edge_buf[i] = (TrieEdge){(Py_UCS4)ch, child};
    }
    for (Py_ssize_t i = 0; i < n_nodes; i++) { /* children must be sorted for binary search */
        TrieNode *nd = &node_buf[i];
        for (int32_t k = 1; k < nd->n_children; k++) {
            if (edge_buf[nd->child_start + k - 1].ch >= edge_buf[nd->child_start + k].ch) {
                PyErr_Format(PyExc_ValueError, "children of trie node %zd are not sorted", i);
                goto fail;
            }
        }
    }
    Py_DECREF(nodes);
    Py_DECREF(edges);
    for (int c = 0; c < 128; c++)
        self->root_ascii[c] = -1;
    for (int32_t k = 0; k < node_buf[0].n_children; k++) {
        TrieEdge e = edge_buf[node_buf[0].child_start + k];
        if (e.ch < 128)
            self->root_ascii[e.ch] = e.node;
    }
    PyMem_Free(self->nodes);
    PyMem_Free(self->edges);
    self->nodes = node_buf;
    self->n_nodes = n_nodes;
    self->edges = edge_buf;
    self->n_edges = n_edges;
    Py_INCREF(cues);
    Py_XSETREF(self->cues, cues);
    self->word_start = word_start;
    return 0;
fail:
    PyMem_Free(node_buf);
    PyMem_Free(edge_buf);
    Py_DECREF(nodes);
    Py_DECREF(edges);
    return -1;
}

static inline int32_t
trie_child(const CueTrie *self, const TrieNode *node, Py_UCS4 ch)
{
    const TrieEdge *e = self->edges + node->child_start;
    int32_t lo = 0, hi = node->n_children;
    while (lo < hi) {
        int32_t mid = (lo + hi) >> 1;
        if (e[mid].ch < ch)
            lo = mid + 1;
        else
            hi = mid;
    }
    return (lo < node->n_children && e[lo].ch == ch) ? e[lo].node : -1;
}

/* The next match at or after *pos: returns its cue index and moves *pos past it, or -1. */
static int32_t
trie_next(const CueTrie *self, const Py_UCS4 *s, Py_ssize_t len, Py_ssize_t *pos_io)
{
    const TrieNode *root = self->nodes;
    Py_ssize_t pos = *pos_io;
    while (pos < len) {
        if (self->word_start && pos > 0 && is_word(s[pos - 1])) {
            pos++;
            continue;
        }
        Py_UCS4 first = s[pos];
        int32_t child = first < 128 ? self->root_ascii[first] : trie_child(self, root, first);
        if (child < 0) {
            pos++;
            continue;
        }
        const TrieNode *node = root;
        Py_ssize_t best_end = -1;
        int32_t best_cue = -1;
        for (Py_ssize_t j = pos; j < len;) {
            if (j > pos)
                child = trie_child(self, node, s[j]);
            if (child < 0)
                break;
            node = self->nodes + child;
            j++;
            if (node->cue >= 0) {
                /* \b after the cue: word-ness of the last cue char differs from the next */
                int ok = 1;
                if (node->needs_boundary) {
                    int before = is_word(s[j - 1]);
                    int after = j < len ? is_word(s[j]) : 0;
                    ok = before != after;
                }
                if (ok) {
                    best_end = j;
                    best_cue = node->cue;
                }
            }
        }
        if (best_cue >= 0) {
            *pos_io = best_end;
            return best_cue;
        }
        pos++;
    }
    *pos_io = len;
    return -1;
}

static int
trie_ready(const CueTrie *self)
{
    if (self->nodes == NULL) {
        PyErr_SetString(PyExc_ValueError, "CueTrie is not initialized");
        return 0;
    }
    return 1;
}

static PyObject *
CueTrie_findall(CueTrie *self, PyObject *arg)
{
    if (!PyUnicode_Check(arg)) {
        PyErr_SetString(PyExc_TypeError, "findall() needs a str");
        return NULL;
    }
    if (!trie_ready(self) || PyUnicode_READY(arg) < 0)
        return NULL;
    Text tx;
    if (text_open(&tx, arg) < 0)
        return NULL;
    const Py_UCS4 *s = tx.s;
    const Py_ssize_t len = tx.len;
    PyObject *found = PyList_New(0);
    Py_ssize_t pos = 0;
    int32_t cue;
    while (found != NULL && (cue = trie_next(self, s, len, &pos)) >= 0) {
        if (PyList_Append(found, PyTuple_GET_ITEM(self->cues, cue)) < 0)
            Py_CLEAR(found);
    }
    text_close(&tx);
    return found;
}

static PyMethodDef CueTrie_methods[] = {
    {"findall", (PyCFunction)CueTrie_findall, METH_O,
     "Cue matches in order, as re.findall on the equivalent trie regex returns them."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject CueTrieType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "distillguard.fingerprint._accel.CueTrie",
    .tp_basicsize = sizeof(CueTrie),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Leftmost-longest non-overlapping cue scan over a flattened trie.",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)CueTrie_init,
    .tp_dealloc = (destructor)CueTrie_dealloc,
    .tp_methods = CueTrie_methods,
};

/* ------------------------------------------------------------------ n-gram table */

/* Each character of the weight table gets a small index (1..ALPHA_MAX-1; 0 = a character
 * no n-gram uses, so any n-gram containing it is skipped without a lookup). An n-gram of
 * up to 4 characters is then one exact 64-bit key: n << 60 | i0 << 45 | i1 << 30 | ... */
#define NGRAM_MAX 4
#define ALPHA_BITS 15
#define ALPHA_MAX (1 << ALPHA_BITS)

typedef struct {
    uint64_t key; /* 0: empty slot */
    uint32_t seen; /* stamp of the last call that counted this n-gram */
    int32_t row;  /* index into weights */
} NgramSlot;

typedef struct {
    PyObject_HEAD
    NgramSlot *slots;
    size_t mask;
    int64_t *weights; /* 3 per row */
    uint16_t *alpha_bmp; /* index per BMP code point */
    PyObject *alpha_rest; /* dict {code point: index} beyond the BMP */
    uint32_t stamp;
} NgramTable;

static inline uint64_t
ngram_key(const uint32_t *idx, int n)
{
    uint64_t key = (uint64_t)n << 60;
    for (int i = 0; i < n; i++)
        key |= (uint64_t)idx[i] << (ALPHA_BITS * (NGRAM_MAX - 1 - i));
    return key;
}

static inline size_t
slot_of(uint64_t key, size_t mask)
{
    /* splitmix64's finalizer: the keys are structured bit fields, so mix them fully */
    key ^= key >> 30;
    key *= 0xBF58476D1CE4E5B9ULL;
    key ^= key >> 27;
    key *= 0x94D049BB133111EBULL;
    key ^= key >> 31;
    return (size_t)key & mask;
}

static inline NgramSlot *
ngram_find(const NgramTable *self, uint64_t key)
{
    size_t i = slot_of(key, self->mask);
    for (;;) {
        NgramSlot *s = &self->slots[i];
        if (s->key == key)
            return s;
        if (s->key == 0)
            return NULL;
        i = (i + 1) & self->mask;
    }
}

static void
NgramTable_free_buffers(NgramTable *self)
{
    PyMem_Free(self->slots);
    PyMem_Free(self->weights);
    PyMem_Free(self->alpha_bmp);
    self->slots = NULL;
    self->weights = NULL;
    self->alpha_bmp = NULL;
    Py_CLEAR(self->alpha_rest);
}

static void
NgramTable_dealloc(NgramTable *self)
{
    NgramTable_free_buffers(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* index of a character in the table's alphabet; 0 when no n-gram contains it */
static inline uint32_t
alpha_index(const NgramTable *self, Py_UCS4 ch)
{
    if (ch < 0x10000)
        return self->alpha_bmp[ch];
    if (self->alpha_rest == NULL)
        return 0;
    PyObject *key = PyLong_FromUnsignedLong(ch);
    if (key == NULL) {
        PyErr_Clear();
        return 0;
    }
    PyObject *found = PyDict_GetItemWithError(self->alpha_rest, key);
    Py_DECREF(key);
    if (found == NULL) {
        PyErr_Clear();
        return 0;
    }
    return (uint32_t)PyLong_AsUnsignedLong(found);
}

/* NgramTable({ngram: (w0, w1, w2)}) with n-grams of 1..4 chars and integer weights */
static int
NgramTable_init(NgramTable *self, PyObject *args, PyObject *kwds)
{
    PyObject *weights;
    static char *kwlist[] = {"weights", NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O!", kwlist, &PyDict_Type, &weights))
        return -1;
    NgramTable_free_buffers(self);
    Py_ssize_t n_rows = PyDict_GET_SIZE(weights);
    size_t cap = 16;
    while (cap < 3 * (size_t)n_rows)
        cap <<= 1;
    self->slots = PyMem_Calloc(cap, sizeof(NgramSlot));
    self->weights = PyMem_Calloc(3 * (size_t)(n_rows > 0 ? n_rows : 1), sizeof(int64_t));
    self->alpha_bmp = PyMem_Calloc(0x10000, sizeof(uint16_t));
    self->alpha_rest = PyDict_New();
    self->mask = cap - 1;
    self->stamp = 0;
    if (self->slots == NULL || self->weights == NULL || self->alpha_bmp == NULL) {
        PyErr_NoMemory();
        goto fail;
    }
    if (self->alpha_rest == NULL)
        goto fail;
    uint32_t alpha_size = 1;
    PyObject *gram, *value;
    Py_ssize_t it = 0;
    int32_t row = 0;
    while (PyDict_Next(weights, &it, &gram, &value)) {
        long long w[3];
        if (!PyUnicode_Check(gram) || PyUnicode_READY(gram) < 0) {
            PyErr_SetString(PyExc_TypeError, "n-grams must be str");
            goto fail;
        }
        Py_ssize_t n = PyUnicode_GET_LENGTH(gram);
        if (n < 1 || n > NGRAM_MAX) {
            PyErr_SetString(PyExc_ValueError, "n-grams must have 1 to 4 characters");
            goto fail;
        }
        if (!PyArg_ParseTuple(value, "LLL", &w[0], &w[1], &w[2]))
            goto fail;
        uint32_t idx[NGRAM_MAX] = {0};
        for (Py_ssize_t k = 0; k < n; k++) {
            Py_UCS4 ch = PyUnicode_READ_CHAR(gram, k);
            uint32_t i = alpha_index(self, ch);
            if (i == 0) {
                if (alpha_size >= ALPHA_MAX) {
                    PyErr_SetString(PyExc_ValueError, "too many distinct characters in n-grams");
                    goto fail;
                }
                i = alpha_size++;
                if (ch < 0x10000) {
                    self->alpha_bmp[ch] = (uint16_t)i;
                }
                else {
                    PyObject *k_obj = PyLong_FromUnsignedLong(ch);
                    PyObject *v_obj = PyLong_FromUnsignedLong(i);
                    int rc = (k_obj && v_obj) ? PyDict_SetItem(self->alpha_rest, k_obj, v_obj) : -1;
                    Py_XDECREF(k_obj);
                    Py_XDECREF(v_obj);
                    if (rc < 0)
                        goto fail;
                }
            }
            idx[k] = i;
        }
        uint64_t key = ngram_key(idx, (int)n);
        if (ngram_find(self, key) != NULL) {
            PyErr_SetString(PyExc_ValueError, "duplicate n-gram");
            goto fail;
        }
        size_t i = slot_of(key, self->mask);
        while (self->slots[i].key != 0)
            i = (i + 1) & self->mask;
        self->slots[i].key = key;
        self->slots[i].row = row;
        for (int k = 0; k < 3; k++)
            self->weights[3 * row + k] = (int64_t)w[k];
        row++;
    }
    if (PyDict_GET_SIZE(self->alpha_rest) == 0)
        Py_CLEAR(self->alpha_rest);
    return 0;
fail:
    NgramTable_free_buffers(self);
    return -1;
}

static int
table_ready(NgramTable *self, int size_a, int size_b)
{
    if (self->slots == NULL) {
        PyErr_SetString(PyExc_ValueError, "NgramTable is not initialized");
        return 0;
    }
    if (size_a < 1 || size_a > NGRAM_MAX || size_b < 1 || size_b > NGRAM_MAX || size_a == size_b) {
        PyErr_SetString(PyExc_ValueError, "n-gram sizes must be two different values in 1..4");
        return 0;
    }
    return 1;
}

/* Sum the weights of the distinct n-grams of sizes a and b of the character sequence whose
 * alphabet indices are idx[0:len] (0: a character no n-gram contains). */
static PyObject *
sum_indices(NgramTable *self, const uint32_t *idx, Py_ssize_t len, int size_a, int size_b)
{
    if (++self->stamp == 0) { /* wrapped: forget every stamp */
        for (size_t i = 0; i <= self->mask; i++)
            self->slots[i].seen = 0;
        self->stamp = 1;
    }
    const uint32_t stamp = self->stamp;
    int64_t total[3] = {0, 0, 0};
    const int sizes[2] = {size_a, size_b};
    for (Py_ssize_t i = 0; i < len; i++) {
        if (idx[i] == 0)
            continue;
        for (int s = 0; s < 2; s++) {
            int n = sizes[s];
            if (i + n > len)
                continue;
            int ok = 1;
            for (int k = 1; k < n; k++)
                ok &= idx[i + k] != 0;
            if (!ok)
                continue;
            NgramSlot *slot = ngram_find(self, ngram_key(idx + i, n));
            if (slot != NULL && slot->seen != stamp) {
                const int64_t *w = self->weights + 3 * (size_t)slot->row;
                slot->seen = stamp;
                total[0] += w[0];
                total[1] += w[1];
                total[2] += w[2];
            }
        }
    }
    return Py_BuildValue("(LLL)", (long long)total[0], (long long)total[1], (long long)total[2]);
}

/* sums(flat, sizes=(3, 4)) -> (cot, rubric, datagen) integer sums over distinct n-grams */
static PyObject *
NgramTable_sums(NgramTable *self, PyObject *args)
{
    PyObject *text;
    int size_a = 3, size_b = 4;
    if (!PyArg_ParseTuple(args, "U|(ii)", &text, &size_a, &size_b))
        return NULL;
    if (!table_ready(self, size_a, size_b))
        return NULL;
    Text tx;
    if (text_open(&tx, text) < 0)
        return NULL;
    const Py_UCS4 *s = tx.s;
    const Py_ssize_t len = tx.len;
    uint32_t *idx = PyMem_Malloc((size_t)(len > 0 ? len : 1) * sizeof(uint32_t));
    if (idx == NULL) {
        text_close(&tx);
        return PyErr_NoMemory();
    }
    for (Py_ssize_t i = 0; i < len; i++)
        idx[i] = alpha_index(self, s[i]);
    text_close(&tx);
    PyObject *result = sum_indices(self, idx, len, size_a, size_b);
    PyMem_Free(idx);
    return result;
}

/* sums_of_words(text, head, tail, sizes=(3, 4)): sums(flat) for the flat text that
 * ngram.ngram_text builds from an already cut and lowercased `text`:
 *     flat = " ".join(text.split()); if len(flat) > head + tail: flat = flat[:head] + " " + flat[-tail:]
 *     flat = " " + flat + " "
 * without building those strings (whitespace as str.split() defines it). */
static PyObject *
NgramTable_sums_of_words(NgramTable *self, PyObject *args)
{
    PyObject *text;
    Py_ssize_t head, tail;
    int size_a = 3, size_b = 4;
    if (!PyArg_ParseTuple(args, "Unn|(ii)", &text, &head, &tail, &size_a, &size_b))
        return NULL;
    if (!table_ready(self, size_a, size_b))
        return NULL;
    if (head < 0 || tail < 0) {
        PyErr_SetString(PyExc_ValueError, "head and tail must be >= 0");
        return NULL;
    }
    Text tx;
    if (text_open(&tx, text) < 0)
        return NULL;
    const Py_UCS4 *s = tx.s;
    const Py_ssize_t len = tx.len;
    /* joined: the alphabet indices of " ".join(text.split()), at most len long */
    uint32_t *joined = PyMem_Malloc((size_t)(len > 0 ? len : 1) * sizeof(uint32_t));
    /* flat: 2 pads + head + 1 + tail at most, or 2 + len */
    Py_ssize_t flat_cap = 3 + (len < head + tail ? len : head + tail);
    uint32_t *flat = PyMem_Malloc((size_t)flat_cap * sizeof(uint32_t));
    if (joined == NULL || flat == NULL) {
        PyMem_Free(joined);
        PyMem_Free(flat);
        text_close(&tx);
        return PyErr_NoMemory();
    }
    const uint32_t space = alpha_index(self, ' ');
    Py_ssize_t n = 0;
    int in_word = 0;
    for (Py_ssize_t i = 0; i < len; i++) {
        Py_UCS4 ch = s[i];
        if (Py_UNICODE_ISSPACE(ch)) {
            in_word = 0;
            continue;
        }
        if (!in_word && n > 0)
            joined[n++] = space;
        in_word = 1;
        joined[n++] = alpha_index(self, ch);
    }
    text_close(&tx);
    Py_ssize_t m = 0;
    flat[m++] = space;
    if (n > head + tail) {
        memcpy(flat + m, joined, (size_t)head * sizeof(uint32_t));
        m += head;
        flat[m++] = space;
        memcpy(flat + m, joined + n - tail, (size_t)tail * sizeof(uint32_t));
        m += tail;
    }
    else {
        memcpy(flat + m, joined, (size_t)n * sizeof(uint32_t));
        m += n;
    }
    flat[m++] = space;
    PyObject *result = sum_indices(self, flat, m, size_a, size_b);
    PyMem_Free(joined);
    PyMem_Free(flat);
    return result;
}

static PyMethodDef NgramTable_methods[] = {
    {"sums", (PyCFunction)NgramTable_sums, METH_VARARGS,
     "Per-intent integer weight sums over the distinct n-grams of the text."},
    {"sums_of_words", (PyCFunction)NgramTable_sums_of_words, METH_VARARGS,
     "sums() of the whitespace-collapsed head+tail view of a lowercased text (see ngram_text)."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject NgramTableType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "distillguard.fingerprint._accel.NgramTable",
    .tp_basicsize = sizeof(NgramTable),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Hash table of n-gram weights; sums() counts each distinct n-gram once.",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)NgramTable_init,
    .tp_dealloc = (destructor)NgramTable_dealloc,
    .tp_methods = NgramTable_methods,
};

/* ------------------------------------------------------------------ functions */

/* count_families(word_trie, free_trie, view, families_of_cue) -> {family: count}
 *
 * Same dict, same insertion order as cues.py's pure-Python count_families: cues counted in
 * order of first occurrence (word scan, then free scan), then each cue's families added in
 * the order of its tuple. The order matters: intent.py sums float weights in dict order. */
static PyObject *
accel_count_families(PyObject *module, PyObject *args)
{
    (void)module;
    CueTrie *tries[2];
    PyObject *view, *families;
    if (!PyArg_ParseTuple(args, "O!O!UO!", &CueTrieType, &tries[0], &CueTrieType, &tries[1], &view,
                          &PyDict_Type, &families))
        return NULL;
    if (!trie_ready(tries[0]) || !trie_ready(tries[1]))
        return NULL;
    Text tx;
    if (text_open(&tx, view) < 0)
        return NULL;
    const Py_UCS4 *s = tx.s;
    const Py_ssize_t len = tx.len;
    PyObject **cue_of = NULL; /* distinct cues in order of first occurrence (borrowed) */
    Py_ssize_t *count_of = NULL;
    Py_ssize_t n_distinct = 0, capacity = 0;
    PyObject *result = NULL;
    for (int t = 0; t < 2; t++) {
        Py_ssize_t pos = 0;
        int32_t cue;
        while ((cue = trie_next(tries[t], s, len, &pos)) >= 0) {
            PyObject *text = PyTuple_GET_ITEM(tries[t]->cues, cue);
            Py_ssize_t k = 0;
            while (k < n_distinct && cue_of[k] != text)
                k++;
            if (k == n_distinct) {
                if (n_distinct == capacity) {
                    capacity = capacity ? 2 * capacity : 16;
                    PyObject **c2 = PyMem_Realloc(cue_of, (size_t)capacity * sizeof(PyObject *));
                    if (c2 == NULL)
                        goto nomem;
                    cue_of = c2;
                    Py_ssize_t *n2 = PyMem_Realloc(count_of, (size_t)capacity * sizeof(Py_ssize_t));
                    if (n2 == NULL)
                        goto nomem;
                    count_of = n2;
                }
                cue_of[n_distinct] = text;
                count_of[n_distinct] = 0;
                n_distinct++;
            }
            count_of[k]++;
        }
    }
    result = PyDict_New();
    if (result == NULL)
        goto done;
    for (Py_ssize_t k = 0; k < n_distinct; k++) {
        PyObject *fams = PyDict_GetItemWithError(families, cue_of[k]);
        if (fams == NULL || !PyTuple_Check(fams)) {
            if (!PyErr_Occurred())
                PyErr_Format(PyExc_KeyError, "no family tuple for cue %R", cue_of[k]);
            Py_CLEAR(result);
            goto done;
        }
        for (Py_ssize_t f = 0; f < PyTuple_GET_SIZE(fams); f++) {
            PyObject *family = PyTuple_GET_ITEM(fams, f);
            PyObject *old = PyDict_GetItemWithError(result, family);
            if (old == NULL && PyErr_Occurred()) {
                Py_CLEAR(result);
                goto done;
            }
            Py_ssize_t value = count_of[k] + (old ? PyLong_AsSsize_t(old) : 0);
            PyObject *boxed = PyLong_FromSsize_t(value);
            if (boxed == NULL || PyDict_SetItem(result, family, boxed) < 0) {
                Py_XDECREF(boxed);
                Py_CLEAR(result);
                goto done;
            }
            Py_DECREF(boxed);
        }
    }
    goto done;
nomem:
    PyErr_NoMemory();
done:
    text_close(&tx);
    PyMem_Free(cue_of);
    PyMem_Free(count_of);
    return result;
}

/* space_bigrams(text) -> [t0 + " " + t1, t1 + " " + t2, ...] for the tokens of text.split()
 * (minhash.py's shingles, as a list: duplicates do not change a MinHash). A bigram is a
 * slice of `text` when its tokens are one space apart, as they are in a skeleton. */
static PyObject *
accel_space_bigrams(PyObject *module, PyObject *arg)
{
    (void)module;
    if (!PyUnicode_Check(arg)) {
        PyErr_SetString(PyExc_TypeError, "space_bigrams() needs a str");
        return NULL;
    }
    if (PyUnicode_READY(arg) < 0)
        return NULL;
    Text tx;
    if (text_open(&tx, arg) < 0)
        return NULL;
    const Py_UCS4 *s = tx.s;
    const Py_ssize_t len = tx.len;
    PyObject *out = PyList_New(0);
    Py_ssize_t prev_start = -1, prev_end = -1, i = 0;
    while (out != NULL && i < len) {
        while (i < len && Py_UNICODE_ISSPACE(s[i]))
            i++;
        if (i >= len)
            break;
        Py_ssize_t start = i;
        while (i < len && !Py_UNICODE_ISSPACE(s[i]))
            i++;
        if (prev_start >= 0) {
            PyObject *bigram;
            if (start == prev_end + 1 && s[prev_end] == ' ') {
                bigram = PyUnicode_Substring(arg, prev_start, i);
            }
            else {
                PyObject *a = PyUnicode_Substring(arg, prev_start, prev_end);
                PyObject *b = PyUnicode_Substring(arg, start, i);
                bigram = (a && b) ? PyUnicode_FromFormat("%U %U", a, b) : NULL;
                Py_XDECREF(a);
                Py_XDECREF(b);
            }
            if (bigram == NULL || PyList_Append(out, bigram) < 0)
                Py_CLEAR(out);
            Py_XDECREF(bigram);
        }
        prev_start = start;
        prev_end = i;
    }
    text_close(&tx);
    return out;
}

/* Build a str from UCS4 code points (PyUnicode_FromKindAndData picks the narrowest kind). */
static PyObject *
str_of(const Py_UCS4 *buf, Py_ssize_t n)
{
    return PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, buf, n);
}

/* collapse_whitespace(text) == " ".join(text.split()) */
static PyObject *
accel_collapse_whitespace(PyObject *module, PyObject *arg)
{
    (void)module;
    if (!PyUnicode_Check(arg)) {
        PyErr_SetString(PyExc_TypeError, "collapse_whitespace() needs a str");
        return NULL;
    }
    Text tx;
    if (text_open(&tx, arg) < 0)
        return NULL;
    const Py_UCS4 *s = tx.s;
    const Py_ssize_t len = tx.len;
    Py_UCS4 *buf = PyMem_Malloc((size_t)(len > 0 ? len : 1) * sizeof(Py_UCS4));
    if (buf == NULL) {
        text_close(&tx);
        return PyErr_NoMemory();
    }
    Py_ssize_t n = 0;
    int in_word = 0;
    for (Py_ssize_t i = 0; i < len; i++) {
        Py_UCS4 ch = s[i];
        if (Py_UNICODE_ISSPACE(ch)) {
            in_word = 0;
            continue;
        }
        if (!in_word && n > 0)
            buf[n++] = ' ';
        in_word = 1;
        buf[n++] = ch;
    }
    text_close(&tx);
    PyObject *out = str_of(buf, n);
    PyMem_Free(buf);
    return out;
}

/* mask_numbers(text, mask) == re.sub(r"\d+(?:[.,:/-]\d+)*", mask, text)
 * (\d in a str pattern is Py_UNICODE_ISDECIMAL; a separator is kept in the number only
 * when a digit follows it) */
static inline int
is_number_sep(Py_UCS4 ch)
{
    return ch == '.' || ch == ',' || ch == ':' || ch == '/' || ch == '-';
}

static PyObject *
accel_mask_numbers(PyObject *module, PyObject *args)
{
    (void)module;
    PyObject *text, *mask;
    if (!PyArg_ParseTuple(args, "UU", &text, &mask))
        return NULL;
    Text tx;
    if (text_open(&tx, text) < 0)
        return NULL;
    const Py_UCS4 *s = tx.s;
    const Py_ssize_t len = tx.len;
    Py_ssize_t i = 0;
    while (i < len && !Py_UNICODE_ISDECIMAL(s[i]))
        i++;
    if (i == len) {
        text_close(&tx);
        return Py_NewRef(text);
    }
    const int mkind = PyUnicode_KIND(mask);
    const void *mdata = PyUnicode_DATA(mask);
    const Py_ssize_t mlen = PyUnicode_GET_LENGTH(mask);
    /* each number (>= 1 char) becomes mlen chars */
    size_t cap = (size_t)len * (size_t)(mlen > 1 ? mlen : 1) + 1;
    Py_UCS4 *buf = PyMem_Malloc(cap * sizeof(Py_UCS4));
    if (buf == NULL) {
        text_close(&tx);
        return PyErr_NoMemory();
    }
    Py_ssize_t n = 0;
    for (Py_ssize_t k = 0; k < i; k++)
        buf[n++] = s[k];
    while (i < len) {
        Py_UCS4 ch = s[i];
        if (!Py_UNICODE_ISDECIMAL(ch)) {
            buf[n++] = ch;
            i++;
            continue;
        }
        while (i < len && Py_UNICODE_ISDECIMAL(s[i]))
            i++;
        while (i + 1 < len && is_number_sep(s[i]) &&
               Py_UNICODE_ISDECIMAL(s[i + 1])) {
            i++;
            while (i < len && Py_UNICODE_ISDECIMAL(s[i]))
                i++;
        }
        for (Py_ssize_t k = 0; k < mlen; k++)
            buf[n++] = PyUnicode_READ(mkind, mdata, k);
    }
    text_close(&tx);
    PyObject *out = str_of(buf, n);
    PyMem_Free(buf);
    return out;
}

/* script_counts(window, ranges) -> {tag: count} over the non-ASCII characters of window,
 * each counted under the first (lo, hi, tag) range that holds it; tags in order of first
 * appearance (language.py breaks ties by that order). */
static PyObject *
accel_script_counts(PyObject *module, PyObject *args)
{
    (void)module;
    PyObject *text, *ranges;
    if (!PyArg_ParseTuple(args, "UO!", &text, &PyTuple_Type, &ranges))
        return NULL;
    enum { MAX_RANGES = 64 };
    Py_ssize_t n_ranges = PyTuple_GET_SIZE(ranges);
    if (n_ranges > MAX_RANGES) {
        PyErr_SetString(PyExc_ValueError, "too many script ranges");
        return NULL;
    }
    unsigned long lo[MAX_RANGES], hi[MAX_RANGES];
    PyObject *tag[MAX_RANGES];
    for (Py_ssize_t r = 0; r < n_ranges; r++) {
        if (!PyArg_ParseTuple(PyTuple_GET_ITEM(ranges, r), "kkU", &lo[r], &hi[r], &tag[r]))
            return NULL;
    }
    Text tx;
    if (text_open(&tx, text) < 0)
        return NULL;
    const Py_UCS4 *s = tx.s;
    const Py_ssize_t len = tx.len;
    PyObject *order[MAX_RANGES]; /* distinct tags, first appearance first (borrowed) */
    Py_ssize_t count[MAX_RANGES];
    Py_ssize_t n_tags = 0;
    for (Py_ssize_t i = 0; i < len; i++) {
        Py_UCS4 ch = s[i];
        if (ch < 128)
            continue;
        for (Py_ssize_t r = 0; r < n_ranges; r++) {
            if (lo[r] <= ch && ch <= hi[r]) {
                Py_ssize_t t = 0;
                while (t < n_tags && PyUnicode_Compare(order[t], tag[r]) != 0)
                    t++;
                if (t == n_tags) {
                    order[n_tags] = tag[r];
                    count[n_tags++] = 0;
                }
                count[t]++;
                break;
            }
        }
    }
    text_close(&tx);
    PyObject *out = PyDict_New();
    if (out == NULL)
        return NULL;
    for (Py_ssize_t t = 0; t < n_tags; t++) {
        PyObject *boxed = PyLong_FromSsize_t(count[t]);
        if (boxed == NULL || PyDict_SetItem(out, order[t], boxed) < 0) {
            Py_XDECREF(boxed);
            Py_DECREF(out);
            return NULL;
        }
        Py_DECREF(boxed);
    }
    return out;
}

/* End of the longest cue of `trie` that starts exactly at pos, or -1. */
static Py_ssize_t
trie_longest_at(const CueTrie *self, const Py_UCS4 *s, Py_ssize_t len, Py_ssize_t pos)
{
    const TrieNode *node = self->nodes;
    Py_ssize_t best = -1;
    for (Py_ssize_t j = pos; j < len;) {
        int32_t child = trie_child(self, node, s[j]);
        if (child < 0)
            break;
        node = self->nodes + child;
        j++;
        if (node->cue >= 0) {
            int ok = 1;
            if (node->needs_boundary) {
                int before = is_word(s[j - 1]);
                int after = j < len ? is_word(s[j]) : 0;
                ok = before != after;
            }
            if (ok)
                best = j;
        }
    }
    return best;
}

static inline int
quantity_blocker(Py_UCS4 ch) /* [0-9A-Za-z_.,]: a digit after one of these is not a count */
{
    return (ch >= '0' && ch <= '9') || (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
           ch == '_' || ch == '.' || ch == ',';
}

/* max_quantity(view, noun_trie) == max((int(m["num"]) for m in re.finditer(
 *     r"(?P<num>[1-9](?<![0-9A-Za-z_.,][1-9])\d{0,5})(?!\d)\s*(?:[\w-]+\s+){0,3}?(?:<nouns>)",
 *     view)), default=0)   -- intent._DIGIT_QUANTITY, with the nouns as a trie.
 * Deterministic walk: the number is the whole digit run (at most 6 digits); words and
 * whitespace runs are maximal; the noun is tried before each of up to 3 words. */
static PyObject *
accel_max_quantity(PyObject *module, PyObject *args)
{
    (void)module;
    PyObject *view;
    CueTrie *nouns;
    if (!PyArg_ParseTuple(args, "UO!", &view, &CueTrieType, &nouns))
        return NULL;
    if (!trie_ready(nouns))
        return NULL;
    Text tx;
    if (text_open(&tx, view) < 0)
        return NULL;
    const Py_UCS4 *s = tx.s;
    const Py_ssize_t len = tx.len;
    long best = 0;
    Py_ssize_t pos = 0;
    while (pos < len) {
        Py_UCS4 ch = s[pos];
        if (ch < '1' || ch > '9' || (pos > 0 && quantity_blocker(s[pos - 1]))) {
            pos++;
            continue;
        }
        Py_ssize_t j = pos + 1;
        while (j < len && Py_UNICODE_ISDECIMAL(s[j]))
            j++;
        if (j - pos > 6) {
            pos++;
            continue;
        }
        long value = 0;
        for (Py_ssize_t k = pos; k < j; k++)
            value = 10 * value + Py_UNICODE_TODECIMAL(s[k]);
        while (j < len && Py_UNICODE_ISSPACE(s[j]))
            j++;
        Py_ssize_t end = -1;
        for (int words = 0;; words++) {
            end = trie_longest_at(nouns, s, len, j);
            if (end >= 0 || words == 3)
                break;
            Py_ssize_t k = j;
            while (k < len) {
                Py_UCS4 c = s[k];
                if (!(is_word(c) || c == '-'))
                    break;
                k++;
            }
            if (k == j)
                break;
            Py_ssize_t m = k;
            while (m < len && Py_UNICODE_ISSPACE(s[m]))
                m++;
            if (m == k)
                break;
            j = m;
        }
        if (end < 0) {
            pos++;
            continue;
        }
        if (value > best)
            best = value;
        pos = end;
    }
    text_close(&tx);
    return PyLong_FromLong(best);
}

static PyMethodDef accel_functions[] = {
    {"count_families", accel_count_families, METH_VARARGS,
     "Lexicon family counts of a scoring view, in cues.count_families' order."},
    {"space_bigrams", accel_space_bigrams, METH_O, "Word bigrams of a text, in order, with repeats."},
    {"collapse_whitespace", accel_collapse_whitespace, METH_O, "\" \".join(text.split())"},
    {"mask_numbers", accel_mask_numbers, METH_VARARGS,
     "re.sub(r'\\d+(?:[.,:/-]\\d+)*', mask, text) (see prompt_skeleton._NUMBER)."},
    {"max_quantity", accel_max_quantity, METH_VARARGS,
     "Largest '<count> <up to 3 words> <noun>' count in a view (see intent._DIGIT_QUANTITY)."},
    {"script_counts", accel_script_counts, METH_VARARGS,
     "Non-ASCII characters per script tag, tags in order of first appearance."},
    {NULL, NULL, 0, NULL},
};

/* ------------------------------------------------------------------ module */

static struct PyModuleDef accel_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "distillguard.fingerprint._accel",
    .m_doc = "C versions of the cue scan and the n-gram sums (see cues.py, ngram.py).",
    .m_size = -1,
    .m_methods = accel_functions,
};

PyMODINIT_FUNC
PyInit__accel(void)
{
    for (Py_UCS4 c = 0; c < 128; c++)
        ascii_word[c] = Py_UNICODE_ISALNUM(c) || c == '_';
    if (PyType_Ready(&CueTrieType) < 0 || PyType_Ready(&NgramTableType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&accel_module);
    if (m == NULL)
        return NULL;
    Py_INCREF(&CueTrieType);
    if (PyModule_AddObject(m, "CueTrie", (PyObject *)&CueTrieType) < 0) {
        Py_DECREF(&CueTrieType);
        Py_DECREF(m);
        return NULL;
    }
    Py_INCREF(&NgramTableType);
    if (PyModule_AddObject(m, "NgramTable", (PyObject *)&NgramTableType) < 0) {
        Py_DECREF(&NgramTableType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
