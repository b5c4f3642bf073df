"""The chapters' widgets in JupyterLab, driven as a learner drives them: move a slider, see the picture change.

Each test opens the chapter's notebook (so its kernel starts as a learner's would), trains a small model
with the package's own trainer in a new cell (a few steps: the widget's wiring is under test here; the
chapters test the models' quality), shows the package's widget, moves a slider with the keyboard and
compares the rendered picture or text before and after. A screenshot per check is saved under
build/test-artifacts/browser/.
"""

import pytest

from .jupyterlab import (
    error_outputs,
    nudge_slider,
    open_notebook,
    run_code_in_new_cell,
    slider_readout,
    wait_for_change,
)

pytestmark = pytest.mark.browser


def _check_picture_follows_slider(page, artifacts, name: str, slider: str, presses: int = 3):
    # the widget's first picture, in the output of the cell just run (a later one may be a static strip)
    picture = page.locator(".jp-CodeCell:has(.widget-image)").last.locator(".widget-image").first
    picture.wait_for(timeout=60_000)
    before, readout = picture.screenshot(), slider_readout(page, slider)
    nudge_slider(page, slider, presses)
    assert wait_for_change(lambda: slider_readout(page, slider), readout, 10) != readout, "the slider did not move"
    after = wait_for_change(picture.screenshot, before, 60)
    page.screenshot(path=str(artifacts / f"widget_{name}.png"))
    assert after != before, f"moving '{slider}' did not change the picture"
    assert error_outputs(page) == []


GAN = """\
import tempfile
from aigc_course import load_checkpoint, seed_everything
from aigc_course.gan import latent_explorer, train
seed_everything(0)
gan = load_checkpoint(train("dcgan", steps=200, seed=0, out=tempfile.mkdtemp(), progress=False))
explorer = latent_explorer(gan)
explorer
"""


VAE = """\
import tempfile
from aigc_course import load_checkpoint, load_digits, seed_everything
from aigc_course.vae import interpolation_explorer, train
seed_everything(0)
vae = load_checkpoint(train("vae", steps=60, seed=0, out=tempfile.mkdtemp(), progress=False))
x, y = load_digits("test")
explorer = interpolation_explorer(vae, x[0], x[700])   # a 0 and a 7 (the test split is sorted by class)
explorer
"""


DIFFUSION = """\
import tempfile
from aigc_course import load_checkpoint, seed_everything
from aigc_course.diffusion import guidance_explorer, train
seed_everything(0)
model = load_checkpoint(train("flow", steps=20, seed=0, out=tempfile.mkdtemp(), progress=False))
explorer = guidance_explorer(model)
explorer
"""


# screenshot name -> (chapter, code to run, seconds it may take, slider label, key presses on the slider)
PICTURE_WIDGETS = {
    "gan_latent_explorer": ("05_gan.ipynb", GAN, 300, "direction 1", 4),
    "vae_interpolation": ("06_vae.ipynb", VAE, 180, "t", 6),
    "diffusion_guidance": ("11_diffusion.ipynb", DIFFUSION, 300, "guidance", 2),
}


@pytest.mark.parametrize("name", sorted(PICTURE_WIDGETS))
def test_widget_picture_follows_its_slider(lab, page, artifacts, name):
    from tests.browser.conftest import PageProblems

    chapter, code, timeout_s, slider, presses = PICTURE_WIDGETS[name]
    problems = PageProblems(page)
    open_notebook(page, lab, chapter)
    run_code_in_new_cell(page, code, timeout_s=timeout_s)
    _check_picture_follows_slider(page, artifacts, name, slider, presses=presses)
    assert problems.errors == [], problems.errors


TEXT = """\
import torch
from aigc_course import seed_everything, text
seed_everything(0)
docs = text.topics_split("train")[:50_000]
vocab = text.Vocabulary(docs)
model = text.CharModel(text.CharModelConfig(len(vocab)))
text.train_char_model(model, vocab.encode(docs), 30, seed=0, progress=False)
sampler = text.sampler_widget(model, vocab, length=120)
sampler
"""


GPT_TEXT = """\
import tempfile
from aigc_course import load_checkpoint, seed_everything, text
from aigc_course.gpt import train
seed_everything(0)
model = load_checkpoint(train("gpt", steps=30, seed=0, out=tempfile.mkdtemp(), progress=False))
vocab = text.Vocabulary(text.topics_split("train"))
sampler = text.sampler_widget(model, vocab, length=120)
sampler
"""


# screenshot name -> (chapter, code to run, seconds it may take, [(slider label, key, presses), ...])
TEXT_WIDGETS = {
    "text_sampler": ("07_applications.ipynb", TEXT, 180, [("temperature", "ArrowRight", 10)]),
    # top-p starts at its maximum, 1: it can only move left
    "gpt_sampler": ("12_transformers.ipynb", GPT_TEXT, 240, [("temperature", "ArrowRight", 8), ("top-p", "ArrowLeft", 8)]),
}


@pytest.mark.parametrize("name", sorted(TEXT_WIDGETS))
def test_sampled_text_follows_each_slider(lab, page, artifacts, name):
    from tests.browser.conftest import PageProblems

    chapter, code, timeout_s, moves = TEXT_WIDGETS[name]
    problems = PageProblems(page)
    open_notebook(page, lab, chapter)
    run_code_in_new_cell(page, code, timeout_s=timeout_s)
    output = page.locator(".widget-html pre").last
    output.wait_for(timeout=60_000)
    for slider, key, presses in moves:
        before, readout = output.inner_text(), slider_readout(page, slider)
        nudge_slider(page, slider, presses=presses, key=key)
        assert wait_for_change(lambda s=slider: slider_readout(page, s), readout, 10) != readout, slider
        after = wait_for_change(output.inner_text, before, 60)
        assert after != before, f"moving '{slider}' did not change the sampled text"
    page.screenshot(path=str(artifacts / f"widget_{name}.png"))
    assert error_outputs(page) == []
    assert problems.errors == [], problems.errors
