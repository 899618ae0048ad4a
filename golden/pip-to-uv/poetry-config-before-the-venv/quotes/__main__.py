import click

click.echo("quote")
