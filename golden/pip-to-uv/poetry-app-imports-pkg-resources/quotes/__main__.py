import pkg_resources
import click

click.echo(pkg_resources.get_distribution("click").version)
