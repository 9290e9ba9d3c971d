"""Atomic int64 array operations for nopython code: what numba lacks for lock-free hand-offs
between threads that each run a nogil kernel.

`load_acquire(a, i)` reads a[i] so that everything the writer did before its `store_release`
is visible afterwards; `store_release(a, i, v)` publishes v after all earlier writes;
`compare_and_swap(a, i, old, new)` sets a[i] = new only if it still equals old, and says whether
it did. The compiler never caches or reorders these across other memory operations, so a spin
loop over `load_acquire` sees another thread's progress.
"""
from numba.core import cgutils, types
from numba.extending import intrinsic


def _check(arr):
    if not (isinstance(arr, types.Array) and arr.dtype == types.int64 and arr.ndim == 1):
        raise TypeError("atomics work on 1-d int64 arrays")


def _pointer(context, builder, arr_type, arr, index):
    array = context.make_array(arr_type)(context, builder, arr)
    return cgutils.get_item_pointer(context, builder, arr_type, array, [index])


@intrinsic
def load_acquire(typingctx, arr, index):
    _check(arr)
    sig = types.int64(arr, types.intp)

    def codegen(context, builder, sig, args):
        return builder.load_atomic(_pointer(context, builder, sig.args[0], *args), "acquire", 8)

    return sig, codegen


@intrinsic
def store_release(typingctx, arr, index, value):
    _check(arr)
    sig = types.void(arr, types.intp, types.int64)

    def codegen(context, builder, sig, args):
        arr_, index_, value_ = args
        builder.store_atomic(value_, _pointer(context, builder, sig.args[0], arr_, index_), "release", 8)
        return context.get_dummy_value()

    return sig, codegen


@intrinsic
def compare_and_swap(typingctx, arr, index, old, new):
    _check(arr)
    sig = types.boolean(arr, types.intp, types.int64, types.int64)

    def codegen(context, builder, sig, args):
        arr_, index_, old_, new_ = args
        pointer = _pointer(context, builder, sig.args[0], arr_, index_)
        result = builder.cmpxchg(pointer, old_, new_, "acq_rel", "acquire")
        return builder.extract_value(result, 1)

    return sig, codegen
