"""Summarise a small table with pandas (large wheels: numpy and pandas)."""

import numpy as np
import pandas as pd


def main() -> None:
    frame = pd.DataFrame({"team": ["a", "b", "a", "c"], "points": np.array([3, 5, 4, 1])})
    totals = frame.groupby("team")["points"].sum()
    print(f"pandas report ok: total={int(totals.sum())}, best={totals.idxmax()}")


if __name__ == "__main__":
    main()
