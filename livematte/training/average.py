"""Average the parameters of weights files of one model (a "model soup", Wortsman et al. 2022): runs fine-tuned
from one another can average into a model better than either.

    python -m livematte.training.average runs/shm_tnet2.pt runs/shm_cycle2.pt -o models/weights/shm.pt
"""
from __future__ import annotations

import argparse
from pathlib import Path

from ..models import create_model, save_weights


def average_models(paths: list[Path], model_name: str = "shm"):
    """A model whose floating-point parameters are the mean of those in ``paths`` (other buffers: the last's)."""
    states = [create_model(model_name, weights=p).state_dict() for p in paths]
    model = create_model(model_name, weights=None)
    model.load_state_dict({k: (sum(s[k].float() for s in states) / len(states)).to(v.dtype)
                           if v.is_floating_point() else v for k, v in states[-1].items()})
    return model.eval()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("weights", type=Path, nargs="+", help="weights files of one model (at least two)")
    ap.add_argument("-o", "--output", type=Path, required=True)
    ap.add_argument("--model", default="shm")
    a = ap.parse_args(argv)
    if len(a.weights) < 2:
        ap.error("give at least two weights files")
    save_weights(average_models(a.weights, a.model), a.output, a.model,
                 meta={"stage": "average of " + ", ".join(p.name for p in a.weights), "recipe": "scripts/train.sh"})
    print(f"wrote {a.output} (average of {len(a.weights)})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
