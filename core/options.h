/* options.h - reading a caller's option struct, which may come from an older or newer vigil.h.
 *
 * Every public option struct starts with size_t struct_size, which its _init sets to the sizeof
 * the caller was compiled with. Fields are only ever appended, so a field lies within the
 * caller's struct exactly when it ends at or before struct_size: such fields are read, the rest
 * keep this build's defaults. struct_size 0 (an uninitialised struct) and a struct_size larger
 * than this build knows (a caller compiled against a newer vigil.h, asking for something this
 * library cannot do) are refused with VIGIL_E_INVALID. Never installed. */
#ifndef VIGIL_OPTIONS_H
#define VIGIL_OPTIONS_H

#include "internal.h"
#include <stddef.h>

/* Whether the caller's struct *src holds field f. */
#define VIGIL__OPT_HAS(src, f) \
    (offsetof(__typeof__(*(src)), f) + sizeof((src)->f) <= (src)->struct_size)
/* Copies field f from the caller's struct when it holds it; *dst keeps its default otherwise. */
#define VIGIL__OPT_TAKE(dst, src, f) \
    do { if (VIGIL__OPT_HAS(src, f)) (dst)->f = (src)->f; } while (0)

/* Fails to compile unless f ends where type's size says the last field ends: next to each list of
 * VIGIL__OPT_TAKE, so that a field appended without its line in the list stops the build (all
 * but one that fits in the struct's tail padding, such as a 4-byte field after an odd count of
 * them in vigil_rooms_query_options). */
#define VIGIL__OPT_LAST(type, f)                                                                     \
    _Static_assert(sizeof(type) == (offsetof(type, f) + sizeof(((type *)0)->f) + _Alignof(type) - 1) \
                                       / _Alignof(type) * _Alignof(type),                            \
                   #type ": a field was added; give it a VIGIL__OPT_TAKE line and name it here")

/* Defines `static vigil_result name(const type *in, type *o, vigil_error *err)`, the one reader of
 * an option struct: *o gets this build's defaults (init), then, unless in is NULL, every field that
 * the caller's struct holds, after the size check below. FIELDS is an X-macro listing the fields
 * in order, FIELDS(X) expanding to X(first) X(second) ...; last names the last one, which
 * VIGIL__OPT_LAST checks against the struct's size. */
#define VIGIL__OPT_TAKE_FIELD(f) VIGIL__OPT_TAKE(o, in, f);
#define VIGIL__OPTIONS_READER(name, type, init, FIELDS, last)                      \
    VIGIL__OPT_LAST(type, last);                                                    \
    static vigil_result name(const type *in, type *o, vigil_error *err)             \
    {                                                                               \
        init(o);                                                                    \
        if (!in) return VIGIL_OK;                                                   \
        vigil_result r = vigil__opt_check(in->struct_size, sizeof *o, #type, err);  \
        if (r) return r;                                                            \
        FIELDS(VIGIL__OPT_TAKE_FIELD)                                               \
        return VIGIL_OK;                                                            \
    }

/* The size check shared by every option struct: `known` is this build's sizeof. */
static inline vigil_result vigil__opt_check(size_t given, size_t known, const char *type, vigil_error *err)
{
    if (given == 0)
        return vigil__fail(err, VIGIL_E_INVALID, "%s has struct_size 0: fill it with %s_init first", type, type);
    if (given < sizeof(size_t))
        return vigil__fail(err, VIGIL_E_INVALID, "%s has struct_size %zu, too small to hold struct_size itself",
                           type, given);
    if (given > known)
        return vigil__fail(err, VIGIL_E_INVALID,
                           "%s has struct_size %zu, larger than this libvigil %s knows (%zu): "
                           "the program was built against a newer vigil.h", type, given, VIGIL_VERSION_STRING, known);
    return VIGIL_OK;
}

#endif
