"""The ``hf`` backend: a vision-language model run locally with transformers.

Rooms: :mod:`~judges.backends.hf.backend` (the backend and :func:`~judges.backends.hf.backend.create`),
:mod:`~judges.backends.hf.device` (the only code ZeroGPU runs), :mod:`~judges.backends.hf.chat`
(messages -> chat format), :mod:`~judges.backends.hf.loading` (loading and the shared model cache).

Nothing is imported here, so that importing one room does not pull in the others (or ``spaces``).
"""
