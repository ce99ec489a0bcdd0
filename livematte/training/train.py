"""Resumable training of the SHM stages on CPU (or CUDA when present).

Stages, as the paper: ``tnet`` (cross-entropy on trimaps from dilated/eroded alpha), ``mnet`` (6-channel
input with ground-truth trimaps of random band width, Lp), ``e2e`` (Lp + 0.01·Lt). Ours: ``refine``, the M-Net
alone, Lp, on the trimaps of a trained T-Net, frozen (the T-Net leaves most of the person to the M-Net:
scripts/mnet_oracle.py). Each run keeps its own checkpoint in ``runs/<--name or stage>/last.ckpt`` and a
JSON-lines log; without ``--init``, ``mnet``, ``e2e`` and ``refine`` start from the checkpoint of the stage
before (tnet, mnet, e2e). Ctrl-C or the end of the session loses at most ``ckpt_every`` steps. Run it as ``livematte train STAGE``.
"""
from __future__ import annotations

import json
import os
import random
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ..errors import InputError, SettingsError
from ..models import WeightsError, create_model, save_weights
from ..models.plate import widen_state
from ..models.registry import float_state, read_weights, same_architecture
from ..models.widen import widen_tnet_state
from ..models.shm import fuse_alpha
from .data import PersonSampler, load_cached, make_sample, trimap_from_alpha
from .losses import prediction_loss, trimap_loss

STAGE_PARAMETERS = {"tnet": "tnet", "mnet": "mnet", "refine": "mnet", "e2e": None}  # None: all of them
TNET_BAND = 0.02  # unknown band half-width, as a fraction of the sample size


def batch(people, bgs, size, n, rng, mnet_bands=False, close_up=0.0, second_person=0.0, plate=False, props=0.0):
    """``plate``: composites with their clean plates (a plate model's batches), under "plate"; ``props``: the
    share of composites with desk props."""
    samples = [make_sample(people, bgs, size, rng, close_up_prob=close_up, second_person_prob=second_person,
                           plate=plate, props_prob=props) for _ in range(n)]
    fixed_band = max(2, round(size * TNET_BAND))
    tri = [trimap_from_alpha(s.alpha, rng.randint(2, max(3, size // 12)) if mnet_bands else fixed_band)
           for s in samples]

    def t(arrs, scale=255.0):
        x = torch.from_numpy(np.stack(arrs)).float() / scale
        return x.permute(0, 3, 1, 2).contiguous() if x.ndim == 4 else x[:, None]

    extra = {}
    if plate:  # a real photo drawn when no composite could be (plate unknown): a black plate
        extra["plate"] = t([s.plate if s.plate is not None else np.zeros_like(s.image) for s in samples])
    return {
        **extra,
        "image": t([s.image for s in samples]),
        "fg": t([s.fg for s in samples]),
        "bg": t([s.bg for s in samples]),
        "alpha": t([s.alpha for s in samples], 1.0),
        "trimap": torch.from_numpy(np.stack(tri)).long(),
    }


def step_loss(model, stage, b):
    plate = b.get("plate")  # a plate model's batches only
    if stage == "tnet":
        logits = model.tnet(b["image"], plate)
        return trimap_loss(logits, b["trimap"]), {}
    if stage == "mnet":
        probs = F.one_hot(b["trimap"], 3).permute(0, 3, 1, 2).float()
        raw = model.mnet(b["image"], probs, plate)
        alpha = fuse_alpha(probs, raw)
        return prediction_loss(alpha, b["alpha"], b["fg"], b["bg"], b["image"]), {}
    if stage == "refine":  # the M-Net alone, on the trimaps the trained T-Net gives
        model.tnet.eval()  # frozen: its BatchNorm statistics stay (validate() sets the whole model back to train)
        with torch.no_grad():
            logits = model.tnet(b["image"], plate)
        alpha = model.refine(b["image"], logits, plate)[2]
        return prediction_loss(alpha, b["alpha"], b["fg"], b["bg"], b["image"]), {}
    logits, raw, alpha = model(b["image"], plate=plate)
    lp = prediction_loss(alpha, b["alpha"], b["fg"], b["bg"], b["image"])
    lt = trimap_loss(logits, b["trimap"])
    return lp + 0.01 * lt, {"lp": lp.item(), "lt": lt.item()}


@torch.no_grad()
def validate(model, val_batches, stage):
    model.eval()
    inter = union = 0.0
    sad = 0.0
    for b in val_batches:
        plate = b.get("plate")
        if stage == "tnet":
            probs = torch.softmax(model.tnet(b["image"], plate), 1)
            pred = probs[:, 2:3] + 0.5 * probs[:, 1:2]
        elif stage == "mnet":
            probs = F.one_hot(b["trimap"], 3).permute(0, 3, 1, 2).float()
            pred = fuse_alpha(probs, model.mnet(b["image"], probs, plate))
        else:
            pred = model(b["image"], plate=plate)[2]
        p, g = pred > 0.5, b["alpha"] > 0.5
        inter += (p & g).sum().item()
        union += (p | g).sum().item()
        sad += (pred - b["alpha"]).abs().sum().item() / 1000
    model.train()
    return {"val_iou": inter / max(union, 1), "val_sad": sad / sum(len(b["image"]) for b in val_batches)}


def save_atomic(obj, path: Path):
    tmp = path.with_suffix(".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def load_start(model, path: Path, model_name: str = "shm") -> list[str]:
    """Load a run's starting weights: another run's checkpoint (.ckpt) or a weights file. Only a weights file
    of another architecture (shm -> shm-lite, or an older shm-lite) may fit in part: every tensor whose name and
    shape fit is taken, the rest keep their random init, and their names are printed. Returns the names of the
    model's tensors that were not loaded."""
    if path.suffix == ".ckpt":
        state, other_architecture = torch.load(path, map_location="cpu", weights_only=False)["model"], False
    else:
        try:
            blob = read_weights(path)
        except WeightsError as exc:
            raise InputError(f"--init: {exc}") from None
        state = float_state(blob)
        other_architecture = not same_architecture(blob, model.config)
    if not other_architecture:  # everything must fit, as a mistyped --init must not start from noise
        try:
            model.load_state_dict(state)
        except RuntimeError as exc:  # a checkpoint of another architecture
            raise InputError(f"--init {path} does not fit model {model_name!r}: "
                             f"{str(exc).strip().splitlines()[0][:200]}") from None
        return []
    own = model.state_dict()
    saved_width = (blob.get("config") or {}).get("tnet_width", model.config.tnet_width)
    if (saved_width < model.config.tnet_width
            and same_architecture(blob, replace(model.config, tnet_width=saved_width))):
        # a wider T-Net grown from a narrower one: at step 0 the same trimap (models/widen.py)
        model.load_state_dict(widen_tnet_state(state, own))
        print(f"from {path} ({blob.get('model')}): the T-Net widened from {saved_width} to "
              f"{model.config.tnet_width}, new channels read by zero weights")
        return []
    # A plate model's first convolutions take the automatic ones with zeros for the plate's channels: at step 0 it
    # gives the automatic matte exactly (models/plate.py).
    fitting, widened = widen_state(state, own)
    parameters = dict(model.named_parameters())
    if not any(k in parameters for k in fitting):  # BatchNorm's step counters always fit: they do not count
        raise InputError(f"--init {path}: none of its tensors fits model {model_name!r}")
    model.load_state_dict(fitting, strict=False)
    new = [k for k in own if k not in fitting]
    print(f"from {path} ({blob.get('model')}): {len(new)} tensors start anew: {', '.join(new) or 'none'}"
          + (f"; widened with zeros for the plate: {', '.join(widened)}" if widened else ""))
    return new


def train(stage: str, steps: int, size: int, batch_size: int, lr: float, runs: Path, shared: Path,
          model_name: str = "shm", ckpt_every: int = 50, val_every: int = 250, seed: int = 0,
          threads: int | None = None, export: Path | None = None, name: str | None = None,
          init: Path | None = None, close_up: float = 0.0, second_person: float = 0.0, labels: str = "pseudo",
          props: float = 0.0):
    if threads:
        torch.set_num_threads(threads)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    run_dir = runs / (name or stage)
    run_dir.mkdir(parents=True, exist_ok=True)
    ckpt_path = run_dir / "last.ckpt"
    model = create_model(model_name, weights=None).to(device).train()
    if stage not in STAGE_PARAMETERS:
        raise SettingsError(f"unknown stage {stage!r}: one of {', '.join(STAGE_PARAMETERS)}")
    part = STAGE_PARAMETERS[stage]
    params = getattr(model, part).parameters() if part else model.parameters()
    opt = torch.optim.Adam(params, lr=lr)
    start = 0
    if ckpt_path.is_file():
        ck = torch.load(ckpt_path, map_location=device, weights_only=False)
        if ck.get("labels", "pseudo") != labels:
            raise SettingsError(f"{ckpt_path} was trained with --labels {ck.get('labels', 'pseudo')}, not {labels}: "
                                "give the same value to resume it, or --name to start a new run")
        for option, value in (("close-up", close_up), ("props", props)):  # a resumed run keeps its sample mix
            trained = ck.get(option.replace("-", "_"), 0.0)  # checkpoints from before the option: none
            if trained != value:
                raise SettingsError(f"{ckpt_path} was trained with --{option} {trained}, not {value}: give the same "
                                    "value to resume it, or --name to start a new run")
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        start = ck["step"]
        random.setstate(ck["py_rng"])
        print(f"resumed {stage} at step {start}" + (f"; --init {init} is not used (give a new --name to start "
                                                     "a new run from it)" if init is not None else ""))
    else:
        if init is not None and not init.is_file():
            raise InputError(f"--init: no such file: {init}")
        prev = init or {"mnet": runs / "tnet" / "last.ckpt", "e2e": runs / "mnet" / "last.ckpt",
                        "refine": runs / "e2e" / "last.ckpt"}.get(stage)
        if stage == "refine" and not prev.is_file():  # it would freeze a random T-Net
            raise InputError(f"refine trains the M-Net on a trained T-Net's trimaps and there is no {prev}: give "
                             "--init FILE (a weights file or a run's last.ckpt)")
        if prev is not None and prev.is_file():
            new = load_start(model, prev, model_name)
            if stage == "refine" and any(k.startswith("tnet.") for k in new):
                raise InputError(f"--init {prev}: the T-Net does not fit model {model_name!r} whole, and refine "
                                 "keeps the T-Net as it starts")
            print(f"{stage}: starting from {prev}")
        random.seed(seed)
    for g in opt.param_groups:
        g["lr"] = lr
    torch.manual_seed(seed + start)
    try:
        people, bgs = load_cached(shared, runs / "cache", train=True, labels=labels)
    except FileNotFoundError as exc:
        raise InputError(str(exc)) from None
    held_people, held_bgs = load_cached(shared, runs / "cache", train=False)
    sampler = PersonSampler(people)
    counts = ", ".join(f"{s} {len(sampler.by_source[s])} ({w:.0%})" for s, w in zip(sampler.sources, sampler.weights))
    print(f"{stage}: {len(people)} training people by source (share of draws): {counts}; {len(bgs)} backgrounds; "
          f"{len(held_people)} held-out people", flush=True)
    vrng = random.Random(1)  # fixed validation set of held-out composites
    plate = bool(model.config.plate)  # a plate model trains on composites with their clean plates
    val = [batch(held_people, held_bgs, size, 16, vrng, stage == "mnet", plate=plate) for _ in range(4)]
    val = [{k: v.to(device) for k, v in b.items()} for b in val]
    log = open(run_dir / "log.jsonl", "a")

    def save_checkpoint():
        save_atomic({"model": model.state_dict(), "opt": opt.state_dict(), "step": step,
                     "py_rng": random.getstate(), "stage": stage, "size": size, "close_up": close_up,
                     "second_person": second_person, "labels": labels, "props": props}, ckpt_path)

    rng = random
    t0 = time.time()
    step = start
    try:
        while step < steps:
            b = {k: v.to(device) for k, v in batch(sampler, bgs, size, batch_size, rng, stage == "mnet",
                                                   close_up, second_person, plate, props).items()}
            # cosine decay over the stage, floor at 5 %
            for g in opt.param_groups:
                g["lr"] = lr * (0.05 + 0.95 * 0.5 * (1 + np.cos(np.pi * min(1.0, step / steps))))
            loss, extra = step_loss(model, stage, b)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            step += 1
            if step % 10 == 0:
                rec = {"step": step, "loss": round(loss.item(), 5), "size": size, "lr": opt.param_groups[0]["lr"],
                       "s_per_step": round((time.time() - t0) / 10, 3), **extra}
                t0 = time.time()
                if step % val_every == 0:
                    rec.update(validate(model, val, stage))
                print(json.dumps(rec), flush=True)
                log.write(json.dumps(rec) + "\n")
                log.flush()
            if step % ckpt_every == 0 or step == steps:
                save_checkpoint()
    except KeyboardInterrupt:
        save_checkpoint()
        print(f"interrupted at step {step}; checkpoint saved")
        raise  # the CLI exits 130, so that scripts/train.sh stops instead of starting the next stage
    if export is not None:
        save_weights(model.cpu().eval(), export, model_name,
                     meta={"stage": stage, "steps": step, "size": size, "recipe": "scripts/train.sh",
                           **({"init": str(init)} if init else {}), **({"close_up": close_up} if close_up else {}),
                           **({"second_person": second_person} if second_person else {}),
                           **({"props": props} if props else {}),
                           **({"labels": labels} if labels != "pseudo" else {})})
        print(f"exported {export}")
