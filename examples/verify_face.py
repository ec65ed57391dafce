"""Enroll a face, then verify it and a stranger against it (dlib's 128-d encodings).

    python examples/verify_face.py OUT_DIR [--person demo:astronaut] [--stranger demo:grace_hopper]

Runs the ``facerec enroll`` and ``facerec verify`` jobs through ``dltool.api.run`` with
the face database in OUT_DIR/faces.sqlite3; ``verify`` returns its --json document,
``match`` is whether distance = ‖f(A) − f(B)‖₂ is below the threshold.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from dltool.api import run


def main() -> None:
    """Enroll PERSON as 'person', verify PERSON and STRANGER, print each distance."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="folder for the face database")
    parser.add_argument("--person", default="demo:astronaut", help="image of the person")
    parser.add_argument("--stranger", default="demo:grace_hopper", help="image of someone else")
    args = parser.parse_args()

    args.out.mkdir(parents=True, exist_ok=True)
    db = args.out / "faces.sqlite3"
    db.unlink(missing_ok=True)
    run("facerec", "enroll", "person", args.person, db=db, largest=True)
    for image in (args.person, args.stranger):
        result = run("facerec", "verify", image, name="person", db=db, largest=True)
        verdict = "same person" if result["match"] else "someone else"
        print(f"{image}: distance {result['distance']:.3f} "
              f"(threshold {result['threshold']}) -> {verdict}")  # fmt: skip


if __name__ == "__main__":
    main()
