// sluicectl: the admin API's command-line client (placeholder until the commands land).

import SluiceAdmin

print("sluicectl: admin socket \(AdminPaths.defaultSocket)")
