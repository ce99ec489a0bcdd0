#!/usr/bin/env bash
# The full SHM training recipe, stage by stage. Every command resumes from runs/<stage>/last.ckpt, so the
# script can be stopped at any time and run again to continue. Needs ../shared.
set -euo pipefail
cd "$(dirname "$0")/.."
T="livematte train --runs runs --threads ${TRAIN_THREADS:-2}"  # TRAIN_THREADS=1 leaves a core free
[ -f runs/cache/teacher.npz ] || livematte train teacher --runs runs  # peer-teacher labels (distillation)
$T tnet --steps 3000  --size 192 --batch 16 --lr 2e-3          # low-resolution warm-up: more samples per CPU minute
$T tnet --steps 5600  --size 256 --batch 16 --lr 1e-3          # T-Net pre-train at the working size
$T mnet --steps 900   --size 256 --batch 16 --lr 2e-3          # M-Net pre-train on ground-truth trimaps
$T e2e  --steps 2000  --size 256 --batch 12 --lr 3e-4 --export runs/shm_cycle1.pt
# A second cycle (fresh cosine schedules, new run folders): the T-Net alone from the end-to-end weights, since the
# trimap is what limits the model, then end to end again; their average (runs/shm_soup.pt) starts the 320 px stage.
$T tnet --name tnet2 --init runs/e2e/last.ckpt   --steps 2400 --size 256 --batch 16 --lr 5e-4 \
   --export runs/shm_tnet2.pt
$T e2e  --name e2e2  --init runs/tnet2/last.ckpt --steps 1200 --size 256 --batch 12 --lr 2e-4 \
   --export runs/shm_cycle2.pt
python -m livematte.training.average runs/shm_tnet2.pt runs/shm_cycle2.pt -o runs/shm_soup.pt
# The T-Net at the offline working size, 320 px (with webcam close-ups): the T-Net alone, then end to end (this
# result alone, not averaged with its start, which faded the demo clip's legs again; model card); then the M-Net
# alone on the trimaps of that T-Net, frozen: the M-Net decides most of the person (scripts/mnet_oracle.py).
$T tnet   --name tnet320   --init runs/shm_soup.pt       --steps 1500 --size 320 --batch 16 --lr 3e-4 \
   --close-up 0.15
$T e2e    --name e2e320    --init runs/tnet320/last.ckpt --steps 600  --size 320 --batch 12 --lr 2e-4 \
   --close-up 0.15 --export runs/shm_e2e320.pt
$T refine --name refine320 --init runs/shm_e2e320.pt     --steps 900  --size 320 --batch 12 --lr 5e-4 \
   --close-up 0.15 --export runs/shm_step8.pt
# Step 9 (#23): end to end on every labelled source, then again with the pseudo-alpha bands taken from RVM where it
# agrees with the mask; shipped: the average with step 8 (model card: why not the run alone).
$T e2e --name v2_e2e   --init runs/shm_step8.pt  --steps 1000 --size 320 --batch 12 --lr 2e-4 \
   --close-up 0.15 --second-person 0.15 --export runs/shm_v2_e2e.pt
[ -f runs/cache/edges.npz ] || livematte train edges --runs runs
$T e2e --name v3_edges --init runs/shm_v2_e2e.pt --steps 1000 --size 320 --batch 12 --lr 1.5e-4 \
   --close-up 0.15 --second-person 0.15 --labels edges --export runs/shm_v3_edges.pt
python -m livematte.training.average runs/shm_step8.pt runs/shm_v3_edges.pt -o runs/shm_step9.pt
# Step 10 (#23): twice the webcam close-ups, few desk props; shipped: three parts step 9 to one part the run (the run
# alone and the even average lost 0.001-0.003 IoU on the photos; model card, session 16).
$T e2e --name v5_closeup --init runs/shm_step9.pt --steps 1000 --size 320 --batch 12 --lr 1.5e-4 \
   --close-up 0.3 --second-person 0.15 --labels edges --props 0.05 --export runs/shm_v5_closeup.pt
python -m livematte.training.average runs/shm_step9.pt runs/shm_v5_closeup.pt -o runs/shm_v5_soup.pt
python -m livematte.training.average runs/shm_step9.pt runs/shm_v5_soup.pt -o models/weights/shm.pt
# shm-lite, the live model (T-Net decoder to /4; M-Net with expansion 2, down to /4 only, sub-pixel head). Its
# first version (commit 8bd8989: the M-Net still went down to /8 and had the full-resolution image head) was trained
# from the shipped shm weights with T-Net 300, M-Net 400 and end-to-end 2000 steps (that commit's train.sh); the
# shipped file starts from that one (all tensors that fit: all but the sub-pixel head), then M-Net and end to end.
L="$T --model shm-lite"
[ -s runs/shm_lite_v1.pt ] || { git show 8bd8989:models/weights/shm-lite.pt > runs/shm_lite_v1.pt.part &&
                                mv runs/shm_lite_v1.pt.part runs/shm_lite_v1.pt; }
$L mnet --name lite2_mnet --init runs/shm_lite_v1.pt         --steps 400  --size 256 --batch 16 --lr 1e-3
$L e2e  --name lite2_e2e  --init runs/lite2_mnet/last.ckpt   --steps 2000 --size 256 --batch 12 --lr 3e-4 \
   --export runs/shm_lite2.pt
# Webcam close-ups (head and shoulders, the body leaving the frame) for 15 % of the full-body people, end to end at a
# low learning rate; the average of that run and its start keeps most of the gain on close-ups and composites with
# less of the run's extra edge flicker.
$L e2e  --name lite_cu_e2e --init runs/shm_lite2.pt          --steps 1500 --size 256 --batch 12 --lr 1e-4 \
   --close-up 0.15 --export runs/shm_lite_cu.pt
python -m livematte.training.average --model shm-lite runs/shm_lite2.pt runs/shm_lite_cu.pt \
   -o runs/shm_lite_soup.pt
# As shm's last stage: the M-Net alone on the trimaps of the (frozen) T-Net.
$L refine --name lite_refine --init runs/shm_lite_soup.pt     --steps 900  --size 256 --batch 12 --lr 5e-4 \
   --close-up 0.15 --export runs/shm_lite_s14.pt
# v2 (#23): end to end on every labelled source with RVM's edges and desk props; shipped: the average with its start.
$L e2e --name lite_v2 --init runs/shm_lite_s14.pt --steps 1500 --size 256 --batch 12 --lr 2e-4 --close-up 0.15 \
   --second-person 0.15 --labels edges --props 0.15 --export runs/shm_lite_v2.pt
python -m livematte.training.average --model shm-lite runs/shm_lite_s14.pt runs/shm_lite_v2.pt \
   -o models/weights/shm-lite.pt
# Clean-plate models (#24; run in sessions 15-16, they made the shipped files): the automatic weights with the
# first convolutions widened by zeros for the plate's channels (at step 0 they give the automatic matte exactly),
# trained end to end on composites with perturbed plates (livematte/training/plates.py): shm-plate at 256 then
# 320 px, shm-lite-plate at 256 px.
P="$T --model shm-plate"
$P e2e --name plate_e2e    --init runs/shm_step8.pt --steps 2000 --size 256 --batch 12 --lr 3e-4 \
   --close-up 0.15 --second-person 0.15 --export runs/shm_plate256.pt
$P e2e --name plate_e2e320 --init runs/shm_plate256.pt  --steps 600  --size 320 --batch 12 --lr 2e-4 \
   --close-up 0.15 --second-person 0.15 --export runs/shm-plate-v2.pt
# shm-plate v3: step 1000's checkpoint of this run (it was still going at the end of session 16)
$P e2e --name plate_e2e320b --init runs/shm-plate-v2.pt --steps 1200 --size 320 --batch 12 --lr 1.5e-4 \
   --close-up 0.15 --second-person 0.15 --export runs/shm_plate_b.pt
# shm-plate v4 (shipped, session 17): a third 320 px stage at a lower rate
$P e2e --name plate_e2e320c --init runs/shm_plate_b.pt --steps 900 --size 320 --batch 12 --lr 8e-5 \
   --close-up 0.15 --second-person 0.15 --export models/weights/shm-plate.pt
$T --model shm-lite-plate e2e --name lite_plate_e2e --init models/weights/shm-lite.pt --steps 2000 --size 256 \
   --batch 12 --lr 3e-4 --close-up 0.15 --second-person 0.15 --export models/weights/shm-lite-plate.pt
