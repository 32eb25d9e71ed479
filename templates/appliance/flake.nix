{
  description = "A self-growing NixOS appliance image, built by nix-repart";

  inputs = {
    nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";
    nix-repart.url = "github:nix-repart/nix-repart";
    nix-repart.inputs.nixpkgs.follows = "nixpkgs";
  };

  outputs =
    { nixpkgs, nix-repart, ... }:
    let
      system = "x86_64-linux";
      appliance = nixpkgs.lib.nixosSystem {
        inherit system;
        modules = [
          nix-repart.nixosModules.default
          ./configuration.nix
        ];
      };
    in
    {
      nixosConfigurations.appliance = appliance;
      # nix build .#image  ->  result/appliance_1.raw, result/appliance_1.store.raw
      packages.${system} = {
        image = appliance.config.system.build.image;
        default = appliance.config.system.build.image;
      };
    };
}
