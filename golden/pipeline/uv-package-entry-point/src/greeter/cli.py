import click


@click.command()
@click.option("--name", default="world")
def main(name: str) -> None:
    click.echo(f"hello, {name} (greeter installed as a package)")
