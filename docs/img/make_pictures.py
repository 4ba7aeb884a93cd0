"""Redraw docs/img/notebook.png: what a notebook shows for a model and its trace.

Run from the repository root with Chromium, ChromeDriver and selenium installed:
``python docs/img/make_pictures.py``.  The page is the HTML that glassnet.notebook
gives Jupyter for the XOR network of tutorial 2, laid out as two notebook cells.
"""
import pathlib
import tempfile

from PIL import Image
from selenium import webdriver

import glassnet as gn
from glassnet import notebook

OUT = pathlib.Path(__file__).resolve().parent / "notebook.png"

X, y = gn.datasets.logic_gate("xor")
model = gn.Sequential([gn.Dense(4, "tanh", input_dim=2, name="hidden"),
                       gn.Dense(1, "sigmoid", name="output")], seed=0)
model.compile(loss="binary_crossentropy", optimizer=gn.SGD(0.5, momentum=0.9))
model.fit(X, y, epochs=150, batch_size=4, verbose=0)


def cell(number, code, output):
    return (f'<div class="cell"><pre><span class="in">In [{number}]:</span> {code}</pre>'
            f'<div class="out">{output}</div></div>')


page = f"""<!DOCTYPE html><html><head><meta charset="utf-8"><style>
body {{ font-family: system-ui, sans-serif; margin: 16px; width: 1180px; }}
.cell {{ margin-bottom: 14px; }} pre {{ background: #f7f7f7; border: 1px solid #e0e0e0;
  padding: 6px 10px; margin: 0 0 6px 0; font-size: 14px; }} .in {{ color: #303f9f; }}
.out {{ padding-left: 10px; }} .out img {{ max-height: 210px; }}
</style></head><body>
{cell(4, "model", notebook.model_html(model))}
{cell(5, "model.trace(X[1], y[1])", notebook.trace_html(model.trace(X[1], y[1])))}
</body></html>"""

with tempfile.TemporaryDirectory() as tmp:
    path = pathlib.Path(tmp) / "page.html"
    path.write_text(page, encoding="utf-8")
    options = webdriver.ChromeOptions()
    for flag in ("--headless=new", "--no-sandbox", "--window-size=1220,1600",
                 "--hide-scrollbars"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options)
    try:
        driver.get(path.as_uri())
        # down to the loss: the model, its drawing and the forward pass
        bottom = driver.execute_script(
            "return document.querySelector('.glassnet-loss').getBoundingClientRect().bottom")
        driver.save_screenshot(str(OUT))
    finally:
        driver.quit()
    with Image.open(OUT) as shot:
        shot.crop((0, 0, shot.width, int(bottom) + 16)).save(OUT, optimize=True)
print("wrote", OUT)
