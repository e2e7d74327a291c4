"""Re-make docs/model_dock.png: the Model dock offscreen, mid-download (the progress is staged,
nothing is downloaded). PYTHONPATH=. python docs/shoot_model_dock.py docs/model_dock.png"""

import os, sys, time, tempfile
os.environ["QT_QPA_PLATFORM"]="offscreen"
os.environ["DETSCOPE_NO_AUTOLOAD"]="1"
os.environ["DETSCOPE_SETTINGS_DIR"]=tempfile.mkdtemp()
home = tempfile.mkdtemp()
os.environ["TORCH_HOME"]=home
import torch
torch.set_num_threads(1)
from PySide6.QtWidgets import QApplication
app=QApplication([])
from app.main_window import MainWindow
from detector.models.weights import find_weights
from detector.models import load_model
entry = find_weights("fasterrcnn_mobilenet_v3_large_320_fpn")
entry.path.parent.mkdir(parents=True)
torch.save(load_model(entry.architecture, weights=None, num_classes=91).module.state_dict(), entry.path)
w=MainWindow(); w.resize(1400, 900); w.show()
d=w.model_dock
def pump(sec):
    t=time.time()
    while time.time()-t<sec: app.processEvents(); time.sleep(0.02)
while "fasterrcnn_resnet50_fpn" not in d._entries: pump(0.1)
d.raise_()
d.arch_combo.setCurrentText("fasterrcnn_resnet50_fpn")
d._fill_weights()
d.weights_combo.setCurrentIndex(d.weights_combo.findData("COCO_V1"))
d._show_download_state()
d.show_download_progress(61_000_000, 159_743_000, "fasterrcnn_resnet50_fpn_coco-258fb6c6.pth: 61.0 MB of 159.7 MB")
d.download_button.hide(); d.download_bar.show(); d.cancel_button.show()
pump(0.5)
d.resize(560, 300)
pump(0.3)
img = d.grab()
img.save(sys.argv[1])
print(img.width(), img.height())
w.close()
