"""cbct's geometry and arrays in RTK's conventions, and a check that the two
geometries put every point on the same detector pixel.

cbct (docs/geometry.md, ASTRA `cone_vec`): rotation axis z; at angle a the
source is at sod (sin a, -cos a, 0), the detector on the other side, columns
along u = (cos a, sin a, 0), rows along v = +z. Volumes (nz, ny, nx), x
fastest; projections (view, row, column).

RTK (ThreeDCircularProjectionGeometry, IEC 61217): rotation axis Y; at gantry
angle 0 the source is at (0, 0, SID) and the detector plane is Z = SID - SDD,
its u axis along X and v along Y; the gantry angle turns both about Y.
Projection stacks are ITK images (u, v, view), so as NumPy arrays (view, v, u),
the same layout as cbct's.

The map from cbct's world to RTK's is the rotation (x, y, z) -> (x, z, -y):
cbct's source at angle a, sod (sin a, -cos a, 0), becomes (sod sin a, 0,
sod cos a), RTK's source at gantry angle a; u = (cos a, sin a, 0) becomes
(cos a, 0, -sin a), RTK's rotated u; v = +z becomes +Y. `check_geometry`
verifies this on random points with RTK's own projection matrices instead of
trusting the derivation.
"""
import json
import math

import numpy as np

import itk
from itk import RTK as rtk

IMAGE = itk.Image[itk.F, 3]


def load_geometry(path):
    with open(path) as f:
        g = json.load(f)
    vol = g["volume"]
    return {"shape": vol["shape"], "voxel": vol["voxel_size"],
            "origin": vol.get("origin", [0.0, 0.0, 0.0]),
            "rows": g["detector"]["rows"], "cols": g["detector"]["cols"],
            "vectors": np.array(g["vectors"], dtype=np.float64)}


def world_to_rtk(p):
    """cbct world (x, y, z) -> RTK world (X, Y, Z) = (x, z, -y)."""
    p = np.asarray(p, dtype=np.float64)
    return np.stack([p[..., 0], p[..., 2], -p[..., 1]], axis=-1)


def circular_parameters(geom):
    """Per view (gantry angle in degrees, SID, SDD, offset u, offset v), from
    cbct's vectors of a circular scan about z (the only kind compared)."""
    out = []
    for row in geom["vectors"]:
        src, det, u, v = row[0:3], row[3:6], row[6:9], row[9:12]
        if abs(src[2]) > 1e-9 or abs(u[2]) > 1e-9 or abs(v[0]) + abs(v[1]) > 1e-9:
            raise ValueError("rtk_vs_cbct compares circular scans about z only")
        angle = math.atan2(src[0], -src[1])
        sid = math.hypot(src[0], src[1])
        normal = np.array([-math.sin(angle), math.cos(angle), 0.0])  # source -> detector
        sdd = float(np.dot(det - src, normal))
        on_axis = src + sdd * normal
        off_u = float(np.dot(det - on_axis, u / np.linalg.norm(u)))
        off_v = float(det[2] - on_axis[2])
        out.append((math.degrees(angle), sid, sdd, off_u, off_v))
    return out


def make_rtk_geometry(geom):
    """RTK geometry with no detector offsets: cbct's offsets go into the
    projection image's origin (`projection_image_grid`), which is the same
    set of rays."""
    g = rtk.ThreeDCircularProjectionGeometry.New()
    for angle, sid, sdd, _, _ in circular_parameters(geom):
        g.AddProjection(sid, sdd, angle)
    return g


def projection_image_grid(geom):
    """(origin, spacing) of RTK's projection images: pixel (row r, column c)
    at u = (c - C/2 + 0.5) pu + offset_u, v likewise (docs/geometry.md)."""
    params = circular_parameters(geom)
    off_u = {round(p[3], 9) for p in params}
    off_v = {round(p[4], 9) for p in params}
    if len(off_u) != 1 or len(off_v) != 1:
        raise ValueError("detector offsets differ between views; RTK's projection image "
                         "has one origin")
    u, v = geom["vectors"][0, 6:9], geom["vectors"][0, 9:12]
    pu, pv = float(np.linalg.norm(u)), float(np.linalg.norm(v))
    rows, cols = geom["rows"], geom["cols"]
    origin = [(-cols / 2 + 0.5) * pu + off_u.pop(), (-rows / 2 + 0.5) * pv + off_v.pop(), 0.0]
    return origin, [pu, pv, 1.0]


def volume_grid(geom):
    """(origin, spacing) of RTK's volume: RTK axes (X, Y, Z) = (x, z, -y), so
    the RTK array is cbct's with y and z swapped and y reversed."""
    nz, ny, nx = geom["shape"]
    dz, dy, dx = geom["voxel"]
    oz, oy, ox = geom["origin"]
    origin = [(-nx / 2 + 0.5) * dx + ox, (-nz / 2 + 0.5) * dz + oz, -((ny / 2 - 0.5) * dy + oy)]
    return origin, [dx, dz, dy]


def volume_to_rtk(vol):
    """cbct (z, y, x) -> RTK array (Z, Y, X) = (-y, z, x)."""
    return np.ascontiguousarray(vol.transpose(1, 0, 2)[::-1])


def volume_from_rtk(arr):
    return np.ascontiguousarray(arr[::-1].transpose(1, 0, 2))


def image(arr, origin, spacing):
    img = itk.image_from_array(np.ascontiguousarray(arr, dtype=np.float32))
    img.SetOrigin(origin)
    img.SetSpacing(spacing)
    return img


def cbct_pixel(geom, view, p):
    """Continuous (row, column) where the ray from view's source through the
    cbct-world point p meets the detector (docs/geometry.md)."""
    row = geom["vectors"][view]
    src, det, u, v = row[0:3], row[3:6], row[6:9], row[9:12]
    n = np.cross(u, v)
    t = np.dot(det - src, n) / np.dot(p - src, n)
    hit = src + t * (p - src) - det
    a = np.array([[np.dot(u, u), np.dot(u, v)], [np.dot(u, v), np.dot(v, v)]])
    cu, cv = np.linalg.solve(a, [np.dot(hit, u), np.dot(hit, v)])
    return cv + geom["rows"] / 2 - 0.5, cu + geom["cols"] / 2 - 0.5


def rtk_matrix(g, view):
    return np.asarray(itk.array_from_matrix(g.GetMatrix(view)), dtype=np.float64)


def check_geometry(geom, g, n_points=20, seed=0):
    """Largest distance in pixels between where cbct and RTK project random
    points of the volume, over all views (should be ~1e-9)."""
    rng = np.random.default_rng(seed)
    nz, ny, nx = geom["shape"]
    dz, dy, dx = geom["voxel"]
    half = 0.5 * np.array([nx * dx, ny * dy, nz * dz])
    points = (rng.random((n_points, 3)) * 2 - 1) * half + np.array(geom["origin"][::-1])
    origin, spacing = projection_image_grid(geom)
    worst = 0.0
    for view in range(len(geom["vectors"])):
        m = rtk_matrix(g, view)
        for p in points:
            h = m @ np.append(world_to_rtk(p), 1.0)
            col = (h[0] / h[2] - origin[0]) / spacing[0]
            r = (h[1] / h[2] - origin[1]) / spacing[1]
            rr, cc = cbct_pixel(geom, view, p)
            worst = max(worst, abs(r - rr), abs(col - cc))
    return worst
