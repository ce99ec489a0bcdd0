"""Write the ONNX graphs of the shipped weights beside them (models/weights/*.onnx): float T-Net and refinement,
and an int8 T-Net calibrated at each live size. Run after new weights ship; tests/test_weights.py checks that the
graphs match the weights."""
from pathlib import Path

from livematte.export import write_shipped

if __name__ == "__main__":
    for path in write_shipped(Path(__file__).resolve().parents[1] / "models" / "weights"):
        print(f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB)")
