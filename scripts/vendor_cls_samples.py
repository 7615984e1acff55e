"""Vendors the text-direction classifier's sample inputs: data/networks/cls_samples_{images,widths,labels}.npy and _names.txt.

Run once by a developer (not by CI or the tests), in a scratch venv with scikit-image:
    python3 -m venv /tmp/vend && /tmp/vend/bin/pip install scikit-image numpy
    /tmp/vend/bin/python scripts/vendor_cls_samples.py
Source: scikit-image's bundled `page.png` (skimage.data.page(), a scanned book page, BSD-3-Clause) and
`text.png` (skimage.data.text(), a photo of text). Text lines are cut at fixed row bands, split into
segments, resized to height 48 (width at most 192, aspect kept: rapidocr's classifier preprocessing) and
stored as uint8 gray images padded with 0 to 48 x 192 with their valid width; every crop also appears
rotated by 180 degrees. Labels: 0 upright, 1 rotated (the classifier's classes "0" and "180").
"""
import numpy as np
import skimage
import skimage.data
import skimage.transform

H, W = 48, 192
# (image, row band, column segments)
CUTS = [
    ("page", (14, 33), [(0, 130), (120, 250), (250, 384)]),
    ("page", (48, 64), [(0, 130), (120, 250), (250, 384)]),
    ("page", (66, 82), [(0, 130), (120, 250), (250, 384)]),
    ("page", (84, 102), [(0, 130), (120, 250), (250, 384)]),
    ("page", (102, 120), [(0, 192), (192, 384)]),
    ("text", (0, 60), [(0, 224), (224, 448)]),
    ("text", (60, 120), [(0, 224), (224, 448)]),
]


def fit(crop):
    h, w = crop.shape
    nw = min(W, max(1, int(round(w * H / h))))
    small = skimage.transform.resize(crop, (H, nw), anti_aliasing=True, preserve_range=True)
    out = np.zeros((H, W), dtype=np.uint8)
    out[:, :nw] = np.clip(np.round(small), 0, 255).astype(np.uint8)
    return out, nw


images, widths, labels, names = [], [], [], []
for name, (y0, y1), segs in CUTS:
    im = getattr(skimage.data, name)()
    for x0, x1 in segs:
        crop = im[y0:y1, x0:x1]
        for rot in (0, 1):
            c = crop if rot == 0 else crop[::-1, ::-1]
            img, nw = fit(c)
            images.append(img)
            widths.append(nw)
            labels.append(rot)
            names.append(f"{name}[{y0}:{y1},{x0}:{x1}]" + (" rot180" if rot else ""))
np.save("data/networks/cls_samples_images.npy", np.stack(images))
np.save("data/networks/cls_samples_widths.npy", np.array(widths, dtype=np.int64))
np.save("data/networks/cls_samples_labels.npy", np.array(labels, dtype=np.int64))
with open("data/networks/cls_samples_names.txt", "w") as f:
    f.write("\n".join(names) + "\n")
print(f"{len(images)} samples, scikit-image {skimage.__version__}")
