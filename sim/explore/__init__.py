"""How sure are we? Sensitivity analysis (``sensitivity``), scenario discovery (``discover``) and
the stage game a pair of nations plays (``game``): the ``lunarsim explore`` commands."""
