"""The Space's Judge tab, in three rooms:

* :mod:`judges.ui.form`: form values in, a validated task, options, judge and judgment out;
* :mod:`judges.ui.display`: a JudgeResult in, the verdict HTML, Markdown and plot out;
* :mod:`judges.ui.tab`: the gradio widgets and their wiring (the only module here importing gradio).

Importing this package loads neither gradio nor plotly: :func:`judges.ui.tab.build_judge_tab` does.
"""
