"""The float oracle: runs an ONNX model in onnxruntime (CPU) on an input .npy and writes every graph
output, or the named tensors, as .npy files. Used by accelc's tests and benches (the project's .venv has
onnxruntime: `bash scripts/setup.sh`); not part of accelc itself.

    python scripts/onnx_reference.py MODEL.onnx INPUT.npy OUT_DIR [TENSOR ...]

Each output is written as OUT_DIR/<name>.npy (characters other than letters, digits, '_', '.', '-'
replaced by '_'); intermediate tensors are exposed by adding them to the graph's outputs.
"""
import re
import sys

import numpy as np
import onnx
import onnxruntime as ort


def main():
    model_path, input_path, out_dir, *tensors = sys.argv[1:]
    model = onnx.load(model_path)
    if tensors:
        known = {o.name for o in model.graph.output}
        for t in tensors:
            if t not in known:
                model.graph.output.append(onnx.helper.make_empty_tensor_value_info(t))
    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    sess = ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])
    x = np.load(input_path)
    names = tensors or [o.name for o in sess.get_outputs()]
    outs = sess.run(names, {sess.get_inputs()[0].name: x})
    for name, v in zip(names, outs):
        np.save(f"{out_dir}/{re.sub(r'[^A-Za-z0-9_.-]', '_', name)}.npy", v)


if __name__ == "__main__":
    main()
