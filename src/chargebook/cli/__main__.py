from chargebook.cli.main import app

app(prog_name="chargebook")
