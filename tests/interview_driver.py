"""Runs an interview in a child process so a test can kill it: `python interview_driver.py DATA_DIR ANSWER...`.

Prints `SESSION <id>` first. An answer containing "slow" makes the grader write DATA_DIR/grading
and sleep, so the test can SIGKILL the process in the middle of grading."""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from interview_fakes import ScriptedGrader, make_deps

from interviewer.interview import Interview
from interviewer.sessions import InterviewSetup


class SlowOnDemand(ScriptedGrader):
    def __init__(self, marker: Path):
        super().__init__()
        self.marker = marker

    def __call__(self, view, answer, points):  # type: ignore[no-untyped-def]
        if "slow" in answer:
            self.marker.write_text("grading")
            time.sleep(120)
        return super().__call__(view, answer, points)


def main() -> None:
    data_dir = Path(sys.argv[1])
    deps = make_deps(data_dir, SlowOnDemand(data_dir / "grading"))
    interview, events = Interview.start(deps, InterviewSetup(lang="en", questions=3, mode="practice"))
    print("SESSION", interview.session_id, flush=True)
    for _ in events:
        pass
    for answer in sys.argv[2:]:
        for _ in interview.send(answer):
            pass
        print("SENT", answer, flush=True)
    print("IDLE", flush=True)
    time.sleep(120)  # wait to be killed between turns


if __name__ == "__main__":
    main()
