"""The parts of `keras_ortho.report`: what it measures of a run (`runs`),
its tables (`tables`), pages (`pages`) and their HTML (`html`)."""
