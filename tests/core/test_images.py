"""The core image reader: upright by EXIF, one clear error per way of failing, image finding."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from dltool.data.images import ImageReadError, find_images, read_rgb
from dltool.errors import DltoolError


def test_exif_orientation_is_applied(tmp_path):
    """A photo stored sideways with EXIF orientation 6 is returned as viewers show it."""
    pixels = np.zeros((20, 30, 3), np.uint8)  # stored: 20 high, 30 wide
    pixels[:8, :8] = (255, 0, 0)  # red block at the stored top-left
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    Image.fromarray(pixels).save(tmp_path / "side.jpg", exif=exif, quality=100)
    Image.fromarray(pixels).save(tmp_path / "plain.png")
    upright = read_rgb(tmp_path / "side.jpg")
    assert upright.shape == (30, 20, 3) and upright.flags.c_contiguous
    assert upright[2, -3, 0] > 200 and upright[2, -3, 1] < 60  # red now at the top-right
    assert read_rgb(tmp_path / "plain.png").shape == (20, 30, 3)


def test_each_failure_is_one_reason(tmp_path):
    (tmp_path / "notes.txt").write_text("not an image")
    Image.new("RGB", (64, 64)).save(tmp_path / "full.jpg")
    (tmp_path / "cut.jpg").write_bytes((tmp_path / "full.jpg").read_bytes()[:300])
    cases = {
        "missing.png": ("does not exist", "image {} does not exist"),
        "notes.txt": ("not an image", "{} is not an image Pillow can read"),
        ".": ("is a directory", "{} is a directory, not an image"),
    }
    for name, (reason, message) in cases.items():
        with pytest.raises(ImageReadError) as err:
            read_rgb(tmp_path / name)
        assert err.value.reason == reason and str(err.value) == message.format(tmp_path / name)
    with pytest.raises(ImageReadError, match="cut.jpg is not a readable image"):
        read_rgb(tmp_path / "cut.jpg")


def test_find_images_in_folders_files_and_globs(tmp_path):
    for name in ("b.PNG", "a.webp", "sub/c.jpg", "notes.txt"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_bytes(b"x")
    found = [p.relative_to(tmp_path).as_posix() for p in find_images([str(tmp_path)])]
    assert found == ["a.webp", "b.PNG", "sub/c.jpg"]
    assert list(find_images([str(tmp_path / "notes.txt")])) == [tmp_path / "notes.txt"]
    assert len(list(find_images([str(tmp_path / "*.webp")]))) == 1
    with pytest.raises(DltoolError, match="no file matches"):
        list(find_images([str(tmp_path / "*.gif")]))
    with pytest.raises(DltoolError, match="image not found"):
        list(find_images([str(tmp_path / "missing.png")]))
    (tmp_path / "empty").mkdir()
    with pytest.raises(DltoolError, match="holds no image files"):
        list(find_images([str(tmp_path / "empty")]))


def test_demo_names_come_from_one_catalogue():
    from dltool.data.images import SAMPLES, sample_path

    paths = list(find_images(["demo:chelsea", "coffee", "demo:grace_hopper"]))
    assert [p.name for p in paths] == ["chelsea.png", "coffee.png", "grace_hopper.jpg"]
    assert all(sample_path(name).is_file() for name in SAMPLES)
    with pytest.raises(DltoolError, match="no demo image 'nope'") as err:
        list(find_images(["demo:nope"]))
    assert "demo:NAME" in err.value.hint and "chelsea" in err.value.hint


def test_16_bit_and_float_images_are_scaled_by_depth(tmp_path):
    from PIL import Image

    grey = np.linspace(0, 65535, 64 * 64).reshape(64, 64).astype(np.uint16)
    Image.fromarray(grey).save(tmp_path / "g16.png")
    rgb = read_rgb(tmp_path / "g16.png")
    expected = np.rint(grey / 257.0)  # 65535 -> 255
    assert np.abs(rgb[..., 0].astype(int) - expected).max() <= 1
    assert (rgb == 255).mean() < 0.01  # was 89 % clipped to white
    Image.fromarray(np.full((8, 8), 0.5, np.float32), mode="F").save(tmp_path / "f.tif")
    assert read_rgb(tmp_path / "f.tif")[0, 0, 0] == 128


def test_write_image_by_suffix(tmp_path):
    from PIL import Image

    from dltool.data.images import write_image

    pixels = np.zeros((4, 5, 3), np.uint8)
    write_image(pixels, tmp_path / "a.jpg")
    write_image(pixels, tmp_path / "b.PNG")
    assert Image.open(tmp_path / "a.jpg").format == "JPEG"
    assert Image.open(tmp_path / "b.PNG").format == "PNG"
    with pytest.raises(DltoolError, match="unknown output format '.gif'"):
        write_image(pixels, tmp_path / "c.gif")
    assert not (tmp_path / "c.gif").exists()


@pytest.mark.parametrize(
    "name, fmt",
    [("a.webp", "WEBP"), ("b.BMP", "BMP"), ("c.tif", "TIFF"), ("d.TIFF", "TIFF"),
     ("e.ppm", "PPM"), ("f.jpeg", "JPEG")],
)  # fmt: skip
def test_write_image_writes_every_format_pillow_writes_by_its_suffix(tmp_path, name, fmt):
    from dltool.data.images import write_image

    pixels = np.arange(4 * 5 * 3, dtype=np.uint8).reshape(4, 5, 3)
    write_image(pixels, tmp_path / name)
    with Image.open(tmp_path / name) as img:
        assert img.format == fmt and img.size == (5, 4)
    write_image(Image.fromarray(pixels[..., 0]), tmp_path / ("grey_" + name))  # a PIL image too
    with Image.open(tmp_path / ("grey_" + name)) as img:
        assert img.format == fmt


def test_output_name_keeps_stem_and_suffix_case_and_never_repeats():
    from dltool.data.images import output_name

    taken: set[str] = set()
    names = [output_name(p, taken) for p in
             ("a/cat.JPG", "b/cat.JPG", "x.webp", "y.TIFF", "z.bmp", "scan.xyz", "noext",
              "c/CAT.png", "v.gif")]  # fmt: skip
    assert names == ["cat.JPG", "cat_2.JPG", "x.webp", "y.TIFF", "z.bmp", "scan.png", "noext.png",
                     "CAT_3.png", "v.png"]  # fmt: skip
    assert output_name("Cat.JPG", tag="_1") == "Cat_1.JPG"
    taken = {"cat_1"}
    assert output_name("Cat.JPG", taken, tag="_1") == "Cat_1_2.JPG" and "cat_1_2" in taken
