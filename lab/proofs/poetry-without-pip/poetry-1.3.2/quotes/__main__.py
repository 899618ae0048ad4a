import click


@click.command()
@click.option("--name", default="lab")
def main(name: str) -> None:
    click.echo(f"quote for {name}: simple is better than complex")


if __name__ == "__main__":
    main()
