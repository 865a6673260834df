#!/usr/bin/env python3
"""Writes the seed corpora tests/fuzz/corpus/<parser>/ of config,
geometry_json, npy, metaimage and safetensors (small valid and near-valid
inputs, a few KB at most). Run from anywhere; the files are committed, so
this only needs to run again to change them. The shipped config and a
small DRUNet weight file are copied in too. The corpora of tiff, nifti and
astra_json were written by `cbct convert` and `cbct geometry to-astra` from
small phantoms, plus truncated and broken copies; walnut_geom's by hand
(docs/reliability.md)."""
import json
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def put(parser, name, data):
    folder = os.path.join(HERE, "corpus", parser)
    os.makedirs(folder, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


def npy(descr, shape, payload=b"", version=1, fortran=False, pad_to=64):
    shape_text = "(" + "".join(f"{n}, " for n in shape).rstrip(", ") + ("," if len(shape) == 1 else "") + ")"
    header = f"{{'descr': '{descr}', 'fortran_order': {fortran}, 'shape': {shape_text}, }}"
    pre = 10 if version == 1 else 12
    total = (pre + len(header) + 1 + pad_to - 1) // pad_to * pad_to
    header = header + " " * (total - pre - len(header) - 1) + "\n"
    length = struct.pack("<H", len(header)) if version == 1 else struct.pack("<I", len(header))
    return b"\x93NUMPY" + bytes([version, 0]) + length + header.encode() + payload


def corpus_npy():
    put("npy", "f32_3d", npy("<f4", (2, 2, 2), b"\0" * 32))
    put("npy", "f64_2d", npy("<f8", (2, 3), b"\0" * 48))
    put("npy", "u16_1d", npy("<u2", (5,), b"\0" * 10))
    put("npy", "v2", npy("<f4", (1, 1, 4), b"\0" * 16, version=2))
    put("npy", "v3", npy("<f4", (3,), b"\0" * 12, version=3))
    put("npy", "empty_shape", npy("<f4", (0, 4), b""))
    put("npy", "fortran", npy("<f4", (2, 2), b"\0" * 16, fortran=True))
    put("npy", "big_endian", npy(">f4", (2,), b"\0" * 8))
    put("npy", "truncated_data", npy("<f4", (100, 100), b"\0" * 8))
    put("npy", "huge_shape", npy("<f8", (2**40, 2**30), b""))
    put("npy", "four_dims", npy("<f4", (1, 1, 1, 2), b"\0" * 8))
    put("npy", "truncated_header", npy("<f4", (2, 2, 2))[:30])


def mha(lines, payload=b""):
    return ("".join(l + "\n" for l in lines)).encode() + payload


def corpus_metaimage():
    base = ["ObjectType = Image", "NDims = 3", "BinaryData = True",
            "BinaryDataByteOrderMSB = False", "CompressedData = False",
            "TransformMatrix = 1 0 0 0 1 0 0 0 1", "Offset = -1.5 -1.5 -0.5",
            "CenterOfRotation = 0 0 0", "ElementSpacing = 1 1 1.5", "DimSize = 2 2 2"]
    put("metaimage", "float_local", mha(base + ["ElementType = MET_FLOAT", "ElementDataFile = LOCAL"], b"\0" * 32))
    put("metaimage", "ushort_msb", mha(["NDims = 3", "DimSize = 2 1 1", "ElementType = MET_USHORT",
                                        "ElementByteOrderMSB = True", "ElementDataFile = LOCAL"], b"\0" * 4))
    put("metaimage", "mhd_raw", mha(["ObjectType = Image", "NDims = 2", "DimSize = 4 3",
                                     "ElementSpacing = 0.5 0.5", "ElementType = MET_DOUBLE",
                                     "HeaderSize = 16", "ElementDataFile = volume.raw"]))
    put("metaimage", "rotated", mha(["NDims = 3", "DimSize = 1 1 1", "TransformMatrix = 0 1 0 1 0 0 0 0 1",
                                     "ElementType = MET_CHAR", "ElementDataFile = LOCAL"], b"\0"))
    put("metaimage", "compressed", mha(["NDims = 3", "DimSize = 1 1 1", "CompressedData = True",
                                        "ElementType = MET_UCHAR", "ElementDataFile = LOCAL"], b"x"))
    put("metaimage", "no_data_file", mha(["NDims = 3", "DimSize = 1 1 1", "ElementType = MET_INT"]))
    put("metaimage", "four_dims", mha(["NDims = 4", "DimSize = 1 1 1 1", "ElementType = MET_SHORT",
                                       "ElementDataFile = LOCAL"], b"\0\0"))
    put("metaimage", "crlf_channels", b"NDims = 3\r\nDimSize = 2 2 2\r\nElementNumberOfChannels = 1\r\n"
        b"ElementType = MET_UINT\r\nElementDataFile = LOCAL\r\n" + b"\0" * 32)


def safetensors(tensors, metadata=None, pad=b""):
    header, data = {}, b""
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, dtype, shape, raw in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    text = json.dumps(header).encode() + pad
    return struct.pack("<Q", len(text)) + text + data


def corpus_safetensors():
    f32 = struct.pack("<4f", 1, -2, 0.5, 3)
    put("safetensors", "f32", safetensors([("w", "F32", [2, 2], f32)], {"format": "pt"}))
    put("safetensors", "mixed", safetensors([("a.weight", "F16", [3], b"\0<" * 3),
                                             ("b.weight", "BF16", [1, 2], b"\x80?" * 2),
                                             ("c", "F64", [1], struct.pack("<d", 2.5)),
                                             ("empty", "F32", [0, 4], b"")]))
    put("safetensors", "padded", safetensors([("x", "F32", [1], f32[:4])], pad=b"    "))
    put("safetensors", "empty", safetensors([]))
    put("safetensors", "int_dtype", safetensors([("i", "I32", [1], b"\0" * 4)]))
    bad = safetensors([("w", "F32", [2, 2], f32)])
    put("safetensors", "size_mismatch", bad.replace(b"[2, 2]", b"[2, 3]"))
    put("safetensors", "truncated", bad[:-5])
    put("safetensors", "header_too_long", struct.pack("<Q", 2**40) + b"{}")
    with open(os.path.join(ROOT, "tests/data/drunet/tiny2d.safetensors"), "rb") as f:
        put("safetensors", "tiny2d", f.read())


def corpus_geometry_json():
    vol = {"shape": [4, 4, 4], "voxel_size": [1, 1, 1], "origin": [0, 0, 0]}
    put("geometry_json", "circular", json.dumps({
        "volume": vol, "detector": {"rows": 8, "cols": 8},
        "circular": {"views": 4, "sod": 100, "sdd": 200, "pixel": [1, 1],
                     "arc_deg": 360, "first_angle_deg": 0, "offset": [0, 0]}}, indent=1))
    views = [[0, -100, 0, 0, 100, 0, 1, 0, 0, 0, 0, 1], [100, 0, 0, -100, 0, 0, 0, 1, 0, 0, 0, 1]]
    put("geometry_json", "vectors", json.dumps({
        "volume": vol, "detector": {"rows": 6, "cols": 5}, "vectors": views}))
    put("geometry_json", "degenerate", json.dumps({
        "volume": vol, "detector": {"rows": 6, "cols": 5},
        "vectors": [[0, -100, 0, 0, 100, 0, 1, 0, 0, 1, 0, 0]]}))
    put("geometry_json", "both", json.dumps({
        "volume": vol, "detector": {"rows": 6, "cols": 5}, "vectors": views,
        "circular": {"views": 2, "sod": 10, "sdd": 20, "pixel": [1, 1]}}))
    put("geometry_json", "short_vector", json.dumps({
        "volume": vol, "detector": {"rows": 6, "cols": 5}, "vectors": [[1, 2, 3]]}))
    put("geometry_json", "many_views", json.dumps({
        "volume": vol, "detector": {"rows": 1, "cols": 1},
        "circular": {"views": 1000000000, "sod": 100, "sdd": 200, "pixel": [1, 1]}}))
    put("geometry_json", "not_json", "{\"volume\": [1, 2,")


def corpus_config():
    with open(os.path.join(ROOT, "configs/tomography_3d.yml"), "rb") as f:
        shipped = f.read()
    put("config", "tomography_3d", shipped)
    put("config", "with_override", shipped + b"\0solver.PnP.max_iterations=3")
    put("config", "override_map", shipped + b"\0dataset.tomography_3d.noise={photons: 1000}")
    put("config", "cgls_plain", "dataset: {tomography_3d: {phantom: shepp-logan, shape: [8, 8, 8], "
        "num_projections: 4}}\nsolver: {CGLS: {max_iterations: 2, init_method: adjoint}}\n"
        "run: {memory: 64M, output: out/x, threads: 1}\n")
    put("config", "fdk", "dataset:\n  - tomography_3d:\n      shape: [4, 4, 4]\nsolver: {FDK: }\n")
    put("config", "grid", "solver:\n  - PnP:\n      model: m.safetensors\n"
        "      slurm_gres, max_batch_size: [[gpu:1, 2], [gpu:2, 4]]\n")
    put("config", "anchors", "a: &x {k: 1}\nb: *x\ndataset: *x\n")
    put("config", "tabs_bad", "dataset:\n\t- x\n")
    put("config", "duplicate", "run: {memory: 1G}\nrun: {memory: 2G}\n")


if __name__ == "__main__":
    corpus_npy()
    corpus_metaimage()
    corpus_safetensors()
    corpus_geometry_json()
    corpus_config()
