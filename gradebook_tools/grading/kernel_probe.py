"""The code the grader runs inside a student's kernel.

The grader sends this module's source to the kernel as it is, followed by one
call of :func:`course_probe`. It imports nothing from the course, so the kernel
learns nothing of the reference or the checks beyond the inputs of the cases.

It calls the student's function on each case and prints one line: a marker and
a JSON reply of plain data. Whatever this code reports, even if student code has
tampered with it, is only data: the grader checks it against the reference in its
own process, so tampering can lose points but never earn them.
"""


# The hints are strings: the kernel never evaluates them, so no import is needed there and
# nothing a student rebinds (``dict = None``) can make this definition fail.
def course_probe(request_json: "str", namespace: "dict[str, object]") -> "None":
    # Imports live inside the function so that a student's globals named
    # ``json`` or ``np`` cannot shadow them.
    import json
    import sys
    import warnings

    import numpy

    max_items = 200_000
    max_text = 500
    request = json.loads(request_json)

    def decode(value):
        if isinstance(value, list):
            return [decode(item) for item in value]
        if isinstance(value, dict):
            if "ndarray" in value:
                return numpy.array(value["ndarray"], dtype=value["dtype"]).reshape(value["shape"])
            if "tuple" in value:
                return tuple(decode(item) for item in value["tuple"])
            return {key: decode(item) for key, item in value["dict"].items()}
        return value

    def encode(value, depth=0):
        kind = type(value)
        # Exact types only: a subclass may override comparisons or conversions.
        if value is None:
            return {"none": None}
        # A numpy scalar is marked: the notebooks ask for Python bools and ints (np.float64 is a float).
        if kind is bool:
            return {"bool": value}
        if kind is numpy.bool_:
            return {"bool": bool(value), "numpy": "bool"}
        if kind is int:
            return {"int": value}
        if isinstance(value, numpy.integer) and kind.__module__ == "numpy":
            return {"int": int(value), "numpy": kind.__name__}
        if kind is float or kind is numpy.float64:
            return {"float": float(value)}
        if isinstance(value, numpy.floating) and kind.__module__ == "numpy":
            return {"float": float(value), "numpy": kind.__name__}
        if kind is str:
            return {"str": value[:max_text]}
        if depth >= 4:
            return {"unsupported": "nested too deeply"}
        if kind is numpy.ndarray:
            if value.dtype.kind not in "biuf":
                return {"unsupported": "a numpy array of dtype " + str(value.dtype)}
            if value.size > max_items:
                return {"unsupported": "an array of more than %d items" % max_items}
            return {"ndarray": value.tolist(), "kind": value.dtype.kind, "shape": list(value.shape)}
        if kind is list or kind is tuple:
            if len(value) > max_items:
                return {"unsupported": "a sequence of more than %d items" % max_items}
            return {kind.__name__: [encode(item, depth + 1) for item in value]}
        if kind is dict:
            if not all(type(key) is str for key in value):
                return {"unsupported": "a dict whose keys are not all strings"}
            return {"dict": {key: encode(item, depth + 1) for key, item in value.items()}}
        return {"unsupported": "an object of type " + kind.__module__ + "." + kind.__qualname__}

    def run(case):
        if request["reads_variable"]:
            if request["target"] not in namespace:
                return {"missing": True}
            return {"returned": encode(namespace[request["target"]])}
        function = namespace.get(request["target"])
        if not callable(function):
            return {"missing": True}
        args, kwargs = decode(case["args"]), decode(case["kwargs"])
        # The categories of the warnings raised during the call, with numpy's default error
        # handling; the grader decides which cost points. A function's own silencing is kept.
        caught = []
        try:
            with (
                warnings.catch_warnings(record=True) as caught,
                numpy.errstate(divide="warn", over="warn", invalid="warn", under="ignore"),
            ):
                warnings.simplefilter("always")
                value = function(*args, **kwargs)
        except KeyboardInterrupt:
            raise  # the grader's time limit: stop here
        except BaseException as error:  # noqa: BLE001 - a student's SystemExit is an answer too
            return {
                "raised": type(error).__name__,
                "value_error": isinstance(error, ValueError),
                "message": str(error)[:max_text],
                "warnings": categories(caught),
            }
        try:
            return {"returned": encode(value), "warnings": categories(caught)}
        except Exception as error:  # noqa: BLE001 - a hostile object's tolist() may raise
            return {"returned": {"unsupported": "a value that could not be read: " + type(error).__name__}}

    def categories(caught):
        names = []
        for record in caught[:1000]:
            category = getattr(record, "category", None)
            name = getattr(category, "__name__", None)
            if type(name) is str and name[:80] not in names:
                names.append(name[:80])
        return names[:20]

    replies = [run(case) for case in request["cases"]]
    line = json.dumps({"replies": replies}, allow_nan=True)
    sys.stdout.write("\n" + request["marker"] + line + "\n")
    sys.stdout.flush()
