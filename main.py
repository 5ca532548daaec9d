from source_pivotal_tracker.run import run

if __name__ == "__main__":
    run()
