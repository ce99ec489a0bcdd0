"""Live mode: camera → matte → composite → virtual camera, in real time.

Five threads, joined by bounded queues that drop their oldest item when full, so latency stays low on a
slow CPU (frames are skipped instead of queued):

- capture: the pipeline's source, reading the camera (or a video file looping as a fake camera): ``sources``;
- matte: the matte and edge controls under the current ``Settings`` snapshot (which travels with the frame);
- composite: foreground colours and the composite, in parallel with the next frame's matte: ``processor``;
- publish: the pipeline's sink, putting the newest result in a one-frame slot (``pacing.FrameSlot``);
- output: sends the slot's frame to the virtual camera at the target rate, and the last frame again when
  processing falls behind, so the consumer never starves (``pacing``). The window previews the same slot.

The first four are ``livematte.pipeline.Pipeline`` (drop-oldest), the same module the offline path uses;
the output thread is apart because it must wake on a clock, not on arrivals. Each frame carries its
capture time, so latency (output − capture) is measured per frame (``stats``). ``session.LiveSession`` runs them.

This package imports nothing itself: import the module you need, so that camera code does not load the session.
"""
