"""Vendors the text detector's sample inputs: data/networks/det_samples_images.npy and _names.txt.

Run once by a developer (not by CI or the tests), with scikit-image installed (e.g. for the moment in
.venv: `.venv/bin/pip install scikit-image`, then `.venv/bin/pip uninstall` it and its dependencies):
    .venv/bin/python scripts/vendor_det_samples.py
Source: scikit-image's bundled `page.png` (skimage.data.page(), a scanned book page, BSD-3-Clause) and
`text.png` (skimage.data.text(), a photo of handwritten text). Three 96 x 160 uint8 gray images (both
sides multiples of 32, as the detector needs; small, because the tests run the float executor
unoptimized):
- page[0:96, 0:160] as it is: the heading and two lines of printed text;
- page[30:78, 0:80] enlarged twice (anti-aliased resize, rounded): two lines at twice the size;
- text[24:120, 144:304] as it is: handwriting on a photographed page, which the detector finds no text
  in at this size (probabilities below 1e-3; it finds the handwriting only in the whole photo enlarged
  to rapidocr's 736-pixel short side): the no-text case.

rapidocr's preprocessing (rapidocr_onnxruntime 1.4.4, ch_ppocr_det/utils.py DetPreProcess with its
config.yaml) is applied by the loader (`accelc::network::samples::det_samples`), not stored: a BGR
uint8 image becomes (v / 255 - 0.5) / 0.5 per channel (config mean = std = 0.5 for all three
channels), HWC -> CHW, batch axis added. A gray image is the same in all three channels, so the
channel order does not matter. rapidocr would first resize the image with cv2 so that its short side
is 736 (limit_type min), rounded to multiples of 32; these samples skip that resize and are cut to
multiples of 32 directly.
"""
import numpy as np
import skimage
import skimage.data
import skimage.transform

H, W = 96, 160
# (image, rows, columns, enlargement)
CUTS = [
    ("page", (0, 96), (0, 160), 1),
    ("page", (30, 78), (0, 80), 2),
    ("text", (24, 120), (144, 304), 1),
]

images, names = [], []
for name, (y0, y1), (x0, x1), k in CUTS:
    crop = getattr(skimage.data, name)()[y0:y1, x0:x1]
    assert crop.shape == (H // k, W // k), crop.shape
    if k != 1:
        crop = skimage.transform.resize(crop, (H, W), anti_aliasing=True, preserve_range=True)
        crop = np.clip(np.round(crop), 0, 255).astype(np.uint8)
    images.append(crop)
    names.append(f"{name}[{y0}:{y1},{x0}:{x1}]" + (f" x{k}" if k != 1 else ""))
np.save("data/networks/det_samples_images.npy", np.stack(images))
with open("data/networks/det_samples_names.txt", "w") as f:
    f.write("\n".join(names) + "\n")
print(f"{len(images)} samples of {H} x {W}, scikit-image {skimage.__version__}")
